package ai.lmtrain.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.data.TextSource;
import ai.lmtrain.io.SaveKillPoints;
import ai.lmtrain.io.SafeTensorsValidator;
import ai.lmtrain.models.BertConfig;
import ai.lmtrain.models.Gpt2Config;
import ai.lmtrain.models.ModelConfig;
import ai.lmtrain.tensor.CpuBackend;
import ai.lmtrain.tokenizers.Tokenizer;
import ai.lmtrain.tokenizers.TokenizerTrainer;
import ai.lmtrain.tokenizers.TrainerOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Short pre-training runs on the toy corpus with a tiny model: the output folder layout, bitwise
 * reproducibility, exact resumption after a crash (also a kill at any step of a checkpoint save), mixed
 * precision, and the errors a user can cause.
 */
class PretrainingJobTest {
  private static CpuBackend backend;
  private static Tokenizer tokenizer;
  private static List<String> texts;

  @BeforeAll
  static void setUp(@TempDir Path tmp) throws IOException {
    backend = new CpuBackend();
    texts = TextSource.bundledLines("toy_corpus.txt");
    Path corpus = tmp.resolve("toy.txt");
    Files.writeString(corpus, String.join("\n", texts) + "\n");
    tokenizer = TokenizerTrainer.trainWordPiece(List.of(corpus), TrainerOptions.wordPiece(300));
  }

  @AfterAll
  static void tearDown() {
    backend.close();
  }

  private static ModelConfig tinyGpt2() {
    return new Gpt2Config(tokenizer.vocabSize(), 32, 32, 2, 2, null, "gelu_new", 0.1, 0.1, 0.1, 1e-5, 0.02, true,
        false, null, null, true);
  }

  private static ModelConfig tinyBert() {
    return new BertConfig(tokenizer.vocabSize(), 32, 2, 2, 64, "gelu", 0.1, 0.1, 32, 2, 0.02, 1e-12, 0, "absolute",
        true);
  }

  private static TrainingArguments args(Map<String, Object> changes) {
    TrainingArguments base = TrainingArguments.defaults().copy(Map.of("numTrainEpochs", 2, "trainBatchSize", 4,
        "learningRate", 3e-3, "warmupSteps", 2, "loggingSteps", 1, "saveStrategy", "steps", "saveSteps", 3));
    return base.copy(changes);
  }

  private static PretrainingJob.Spec spec(String run, ModelConfig config, Path out, TrainingArguments args,
      boolean resume) {
    return new PretrainingJob.Spec(run, config, tokenizer, texts.subList(0, 24), texts.subList(24, 30),
        LmDatasets.Mode.LINES, 32, 32, args, out, resume, LossWeighting.MEAN);
  }

  /** The losses of the training-step events, in order. */
  static List<Double> trainLosses(List<MetricsEvent> events) {
    List<Double> out = new ArrayList<>();
    for (MetricsEvent e : events) {
      if (e.split() == MetricsEvent.Split.TRAIN) {
        out.add(e.loss());
      }
    }
    return out;
  }

  @Test
  void runWritesHuggingFaceFoldersAndRepeatsBitForBit(@TempDir Path tmp) throws IOException {
    List<List<Double>> losses = new ArrayList<>();
    for (String name : new String[] {"a", "b"}) {
      PretrainingJob.Result r = PretrainingJob.run(spec("gpt2", tinyGpt2(), tmp.resolve(name), args(Map.of()), false),
          backend, new TrainingListener() {});
      r.model().close();
      losses.add(trainLosses(r.events()));
    }
    List<Double> first = losses.get(0);
    assertEquals(first, losses.get(1), "same seed, same losses");
    assertEquals(first, trainLosses(MetricsLog.read(tmp.resolve("a").resolve(MetricsLog.FILE_NAME))),
        "metrics.jsonl holds the run's losses");
    assertArrayEquals(Files.readAllBytes(tmp.resolve("a/model.safetensors")),
        Files.readAllBytes(tmp.resolve("b/model.safetensors")), "same seed, same weights");
    assertTrue(first.get(first.size() - 1) < first.get(0), "the loss decreases: " + first);
    for (String f : new String[] {"model.safetensors", "config.json", "tokenizer.json", "vocab.txt", "loss.png",
        "metrics.jsonl", "best/model.safetensors", "checkpoint/optimizer.safetensors", "checkpoint/trainer_state.json"}) {
      assertTrue(Files.isRegularFile(tmp.resolve("a").resolve(f)), "missing " + f);
    }
    SafeTensorsValidator.validate(tmp.resolve("a/model.safetensors"));
  }

  @Test
  void resumeAfterACrashContinuesWithTheSameLossesAndWeights(@TempDir Path tmp) throws IOException {
    for (ModelConfig config : new ModelConfig[] {tinyBert(), tinyGpt2()}) {
      String run = config.modelType();
      PretrainingJob.Result whole = PretrainingJob.run(spec(run, config, tmp.resolve(run + "-whole"), args(Map.of()),
          false), backend, new TrainingListener() {});
      whole.model().close();

      Path out = tmp.resolve(run + "-crashed");
      TrainingListener crashAtStep6 = new TrainingListener() {
        @Override
        public void onSave(Trainer trainer, boolean last) {
          if (trainer.state().globalStep() == 6) {
            throw new IllegalStateException("simulated crash after the step-6 checkpoint");
          }
        }
      };
      IllegalStateException crash = assertThrows(IllegalStateException.class,
          () -> PretrainingJob.run(spec(run, config, out, args(Map.of()), false), backend, crashAtStep6));
      assertEquals("simulated crash after the step-6 checkpoint", crash.getMessage());
      PretrainingJob.Result resumed = PretrainingJob.run(spec(run, config, out, args(Map.of()), true), backend,
          new TrainingListener() {});
      resumed.model().close();

      List<Double> expected = trainLosses(whole.events());
      List<Double> after = trainLosses(resumed.events());
      assertEquals(expected.subList(6, expected.size()), after, run + ": resumed losses equal the uninterrupted run's");
      assertArrayEquals(Files.readAllBytes(tmp.resolve(run + "-whole/model.safetensors")),
          Files.readAllBytes(out.resolve("model.safetensors")), run + ": resumed weights equal the uninterrupted run's");
    }
  }

  @Test
  void mixedPrecisionRunsTrainLikeFp32(@TempDir Path tmp) throws IOException {
    double fp32Final = Double.NaN;
    for (Precision p : Precision.values()) {
      PretrainingJob.Result r = PretrainingJob.run(spec("gpt2", tinyGpt2(), tmp.resolve(p.toString()),
          args(Map.of("precision", p, "numTrainEpochs", 4)), false), backend, new TrainingListener() {});
      r.model().close();
      List<Double> losses = trainLosses(r.events());
      double last = losses.get(losses.size() - 1);
      if (p == Precision.FP32) {
        fp32Final = last;
      }
      // bf16/fp16 round activations and working weights to 8 / 11 significant bits: same trend, loosely equal.
      assertTrue(last < losses.get(0) - 0.3 && Math.abs(last - fp32Final) < 0.15,
          p + " losses should fall like fp32's (final " + fp32Final + "): " + losses);
    }
  }

  @Test
  void userErrorsAreClear(@TempDir Path tmp) {
    ModelConfig small = new Gpt2Config(tokenizer.vocabSize() - 1, 32, 32, 2, 2, null, "gelu_new", 0.1, 0.1, 0.1, 1e-5,
        0.02, true, false, null, null, true);
    IllegalArgumentException vocab = assertThrows(IllegalArgumentException.class,
        () -> PretrainingJob.run(spec("gpt2", small, tmp.resolve("v"), args(Map.of()), false), backend,
            new TrainingListener() {}));
    assertEquals("the tokenizer has " + tokenizer.vocabSize() + " tokens but the model's vocab_size is "
        + (tokenizer.vocabSize() - 1) + " (vocab_size must be at least the tokenizer's size)", vocab.getMessage());

    IllegalArgumentException resume = assertThrows(IllegalArgumentException.class,
        () -> PretrainingJob.run(spec("gpt2", tinyGpt2(), tmp.resolve("none"), args(Map.of()), true), backend,
            new TrainingListener() {}));
    assertTrue(resume.getMessage().startsWith("nothing to resume: "), resume.getMessage());

    IllegalStateException nan = assertThrows(IllegalStateException.class,
        () -> PretrainingJob.run(spec("gpt2", tinyGpt2(), tmp.resolve("nan"), args(Map.of("learningRate", 1e9,
            "maxGradNorm", 0.0)), false), backend, new TrainingListener() {}));
    assertTrue(nan.getMessage().contains("became non-finite"), nan.getMessage());
  }

  /** The events of a metrics file without the throughput, which depends on the clock. */
  private static List<MetricsEvent> metrics(Path run) throws IOException {
    List<MetricsEvent> out = new ArrayList<>();
    for (MetricsEvent e : MetricsLog.read(run.resolve(MetricsLog.FILE_NAME))) {
      out.add(new MetricsEvent(e.run(), e.step(), e.epoch(), e.split(), e.loss(), e.perplexity(), e.lr(), e.gradNorm(),
          e.tokensSeen(), null, e.mlmAccuracy(), e.classification()));
    }
    return out;
  }

  /** Evaluation and a checkpoint every 3 steps: saves at 3, 6, 9, 12. */
  private static TrainingArguments killArgs() {
    return args(Map.of("evalStrategy", "steps", "evalSteps", 3));
  }

  /**
   * A run killed at any step of a checkpoint save resumes to exactly the uninterrupted run: the same
   * final weights (bit for bit on the CPU) and the same metrics.jsonl. The kill is simulated by
   * photographing the output folder at each step of the save protocol (what a crash there leaves on
   * disk, with none of the writer's own clean-up), then resuming each photograph.
   */
  @Test
  void aRunKilledAfterAnyStepOfACheckpointSaveResumesLikeTheUninterruptedRun(@TempDir Path tmp) throws Exception {
    Path whole = tmp.resolve("whole");
    PretrainingJob.run(spec("gpt2", tinyGpt2(), whole, killArgs(), false), backend, new TrainingListener() {}).model().close();

    // The same run, photographed at every step of its second checkpoint save (step 6).
    Path run = tmp.resolve("run");
    Map<String, Path> killedAfter = new LinkedHashMap<>();
    int[] checkpointSaves = {0};
    try (AutoCloseable probe = SaveKillPoints.install((step, target) -> {
      if (target.getFileName().toString().equals("checkpoint")) {
        if (step.equals("STAGED")) {
          checkpointSaves[0]++;
        }
        if (checkpointSaves[0] == 2) {
          Path photo = tmp.resolve("killed-after-" + step);
          SaveKillPoints.copyTree(run, photo);
          killedAfter.put(step, photo);
        }
      }
    })) {
      PretrainingJob.run(spec("gpt2", tinyGpt2(), run, killArgs(), false), backend, new TrainingListener() {}).model().close();
    }
    assertEquals(SaveKillPoints.steps(), List.copyOf(killedAfter.keySet()));
    assertTrue(Files.exists(killedAfter.get("MOVED_ASIDE").resolve(".checkpoint.replaced"))
        && Files.exists(killedAfter.get("MOVED_ASIDE").resolve(".checkpoint.saving"))
        && !Files.exists(killedAfter.get("MOVED_ASIDE").resolve("checkpoint")),
        "the issue's case: only the aside and the staging folder are left");

    byte[] expectedWeights = Files.readAllBytes(whole.resolve("model.safetensors"));
    List<MetricsEvent> expectedMetrics = metrics(whole);
    for (Map.Entry<String, Path> kill : killedAfter.entrySet()) {
      String where = "killed after " + kill.getKey();
      PretrainingJob.Result resumed = PretrainingJob.run(spec("gpt2", tinyGpt2(), kill.getValue(), killArgs(), true), backend,
          new TrainingListener() {});
      resumed.model().close();
      long firstStep = resumed.events().get(0).step();
      assertEquals(kill.getKey().equals("STAGED") ? 4 : 7, firstStep,
          where + ": resumed from the newest complete checkpoint (step " + (firstStep - 1) + ")");
      assertArrayEquals(expectedWeights, Files.readAllBytes(kill.getValue().resolve("model.safetensors")),
          where + ": final weights");
      assertEquals(expectedMetrics, metrics(kill.getValue()), where + ": metrics.jsonl");
      try (Stream<Path> hidden = Files.list(kill.getValue())) {
        assertEquals(List.of(), hidden.filter(p -> p.getFileName().toString().startsWith(".")).toList(),
            where + ": no staging or aside folder is left");
      }
    }
  }
}
