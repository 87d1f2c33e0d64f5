package ai.lmtrain.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.data.TextSource;
import ai.lmtrain.io.SaveKillPoints;
import ai.lmtrain.models.Gpt2Config;
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
 * A run killed at any step of a checkpoint save resumes to exactly the uninterrupted run: the same
 * final weights (bit for bit on the CPU) and the same metrics.jsonl. The kill is simulated by
 * photographing the output folder at each step of the save protocol (what a crash there leaves on
 * disk, with none of the writer's own clean-up), then resuming each photograph.
 */
class KillDuringSaveResumeTest {
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

  private static PretrainingJob.Spec spec(Path out, boolean resume) {
    Gpt2Config config = new Gpt2Config(tokenizer.vocabSize(), 32, 32, 2, 2, null, "gelu_new", 0.1, 0.1, 0.1, 1e-5,
        0.02, true, false, null, null, true);
    TrainingArguments args = TrainingArguments.defaults().copy(Map.of("numTrainEpochs", 2, "trainBatchSize", 4,
        "learningRate", 3e-3, "warmupSteps", 2, "loggingSteps", 1, "saveStrategy", "steps", "saveSteps", 3,
        "evalStrategy", "steps", "evalSteps", 3));
    return new PretrainingJob.Spec("gpt2", config, tokenizer, texts.subList(0, 24), texts.subList(24, 30),
        LmDatasets.Mode.LINES, 32, 32, args, out, resume, LossWeighting.MEAN);
  }

  /** The events of a metrics file without the throughput, which depends on the clock. */
  private static List<MetricsEvent> metrics(Path run) throws IOException {
    List<MetricsEvent> out = new ArrayList<>();
    for (MetricsEvent e : MetricsLog.read(run.resolve(MetricsLog.FILE_NAME))) {
      out.add(new MetricsEvent(e.run(), e.step(), e.epoch(), e.split(), e.loss(), e.perplexity(), e.lr(), e.gradNorm(),
          e.tokensSeen(), null, e.mlmAccuracy()));
    }
    return out;
  }

  @Test
  void aRunKilledAfterAnyStepOfACheckpointSaveResumesLikeTheUninterruptedRun(@TempDir Path tmp) throws Exception {
    Path whole = tmp.resolve("whole");
    PretrainingJob.run(spec(whole, false), backend, new TrainingListener() {}).model().close();

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
      PretrainingJob.run(spec(run, false), backend, new TrainingListener() {}).model().close();
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
      PretrainingJob.Result resumed = PretrainingJob.run(spec(kill.getValue(), true), backend,
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
