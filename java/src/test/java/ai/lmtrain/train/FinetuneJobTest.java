package ai.lmtrain.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.data.LabelledText;
import ai.lmtrain.data.LabelledTextFile;
import ai.lmtrain.data.TextSource;
import ai.lmtrain.models.BertConfig;
import ai.lmtrain.models.BertForMaskedLM;
import ai.lmtrain.models.Gpt2Config;
import ai.lmtrain.models.Gpt2LMHeadModel;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.ModelConfigs;
import ai.lmtrain.models.ProblemType;
import ai.lmtrain.models.SequenceClassification;
import ai.lmtrain.tensor.CpuBackend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tokenizers.Tokenizer;
import ai.lmtrain.tokenizers.TokenizerTrainer;
import ai.lmtrain.tokenizers.TrainerOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Short fine-tuning runs of tiny, untrained BERT and GPT-2 bases on the bundled topic set:
 * exact resumption after a crash, mixed precision, the best model by metric_for_best_model,
 * multi-label and regression heads, and the folder the run leaves.
 */
class FinetuneJobTest {
  private static CpuBackend backend;
  private static Path bases;
  private static List<LabelledText> train;
  private static List<LabelledText> validation;

  @BeforeAll
  static void setUp(@TempDir Path tmp) throws Exception {
    backend = new CpuBackend();
    Path corpus = tmp.resolve("toy.txt");
    Files.writeString(corpus, String.join("\n", TextSource.bundledLines("toy_corpus.txt")) + "\n");
    Tokenizer tokenizer = TokenizerTrainer.trainWordPiece(List.of(corpus), TrainerOptions.wordPiece(400));
    bases = tmp;
    int v = tokenizer.vocabSize();
    try (LanguageModel bert = new BertForMaskedLM(new BertConfig(v, 32, 2, 2, 64, "gelu", 0.1, 0.1, 64, 2, 0.02, 1e-12,
        0, "absolute", true), backend, DType.F32);
        LanguageModel gpt2 = new Gpt2LMHeadModel(new Gpt2Config(v, 64, 32, 2, 2, null, "gelu_new", 0.1, 0.1, 0.1, 1e-5,
            0.02, true, false, null, null, true), backend, DType.F32)) {
      bert.initialize(1);
      gpt2.initialize(1);
      Checkpoints.saveModel(tmp.resolve("bert"), bert, tokenizer);
      Checkpoints.saveModel(tmp.resolve("gpt2"), gpt2, tokenizer);
    }
    Path data = Path.of(FinetuneJobTest.class.getResource("/ai/lmtrain/data/toy_topics_train.csv").toURI());
    train = LabelledTextFile.read(data, "text", null, "label").subList(0, 64);
    validation = LabelledTextFile.read(data.resolveSibling("toy_topics_validation.csv"), "text", null, "label")
        .subList(0, 24);
  }

  @AfterAll
  static void tearDown() {
    backend.close();
  }

  private static TrainingArguments args(Map<String, Object> changes) {
    return TrainingArguments.defaults().copy(Map.of("numTrainEpochs", 2, "trainBatchSize", 8, "learningRate", 2e-3,
        "warmupSteps", 2, "loggingSteps", 1, "saveStrategy", "steps", "saveSteps", 5, "evalStrategy", "steps",
        "evalSteps", 4)).copy(changes);
  }

  private static FinetuneJob.Spec spec(String base, Path out, TrainingArguments args, boolean resume) {
    return new FinetuneJob.Spec(bases.resolve(base), train, validation, "label", null, null, null, 0, args, out,
        resume);
  }

  private static List<Double> losses(List<MetricsEvent> events, MetricsEvent.Split split) {
    List<Double> out = new ArrayList<>();
    for (MetricsEvent e : events) {
      if (e.split() == split) {
        out.add(e.loss());
      }
    }
    return out;
  }

  @Test
  void resumeAfterACrashContinuesWithTheSameLossesAndWeights(@TempDir Path tmp) throws IOException {
    for (String base : new String[] {"bert", "gpt2"}) {
      FinetuneJob.Result whole = FinetuneJob.run(spec(base, tmp.resolve(base + "-whole"), args(Map.of()), false),
          backend, new TrainingListener() {});
      whole.model().close();
      Path out = tmp.resolve(base + "-crashed");
      TrainingListener crashAtStep10 = new TrainingListener() {
        @Override
        public void onSave(Trainer trainer, boolean last) {
          if (trainer.state().globalStep() == 10) {
            throw new IllegalStateException("simulated crash after the step-10 checkpoint");
          }
        }
      };
      assertThrows(IllegalStateException.class,
          () -> FinetuneJob.run(spec(base, out, args(Map.of()), false), backend, crashAtStep10));
      FinetuneJob.Result resumed = FinetuneJob.run(spec(base, out, args(Map.of()), true), backend,
          new TrainingListener() {});
      resumed.model().close();
      List<Double> expected = losses(whole.events(), MetricsEvent.Split.TRAIN);
      assertEquals(16, expected.size());
      assertEquals(expected.subList(10, 16), losses(resumed.events(), MetricsEvent.Split.TRAIN), base);
      assertArrayEquals(Files.readAllBytes(tmp.resolve(base + "-whole/model.safetensors")),
          Files.readAllBytes(out.resolve("model.safetensors")), base + ": resumed weights equal the uninterrupted run's");
      assertArrayEquals(Files.readAllBytes(tmp.resolve(base + "-whole/best/model.safetensors")),
          Files.readAllBytes(out.resolve("best/model.safetensors")), base + ": the same best model");
      SequenceClassification head = ModelConfigs.readClassification(out.resolve("config.json"));
      assertEquals(List.of("culture", "geography", "wildlife"), head.labels());
      assertEquals(base.equals("gpt2") ? Integer.valueOf(0) : null, head.padTokenId(), "GPT-2 pads with [PAD]");
    }
  }

  @Test
  void theBestModelFollowsMetricForBestModel(@TempDir Path tmp) throws IOException {
    FinetuneJob.Result r = FinetuneJob.run(spec("bert", tmp, args(Map.of("metricForBestModel", "eval_accuracy",
        "numTrainEpochs", 3)), false), backend, new TrainingListener() {});
    r.model().close();
    double best = -1;
    long bestStep = -1;
    for (MetricsEvent e : r.events()) {
      if (e.split() == MetricsEvent.Split.EVAL && e.classification().accuracy() > best) {
        best = e.classification().accuracy();
        bestStep = e.step();
      }
    }
    var state = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
        tmp.resolve("checkpoint/trainer_state.json").toFile());
    assertEquals(bestStep, state.path("best_step").asLong());
    assertEquals(best, state.path("best_metric").asDouble(), 1e-12);
    assertTrue(state.path("training_args").path("greater_is_better").asBoolean());
    assertTrue(Files.isRegularFile(tmp.resolve("confusion.png")) || !PlotSupport.available());
  }

  @Test
  void mixedPrecisionFineTunesLikeFp32(@TempDir Path tmp) throws IOException {
    double fp32Final = Double.NaN;
    for (Precision p : Precision.values()) {
      FinetuneJob.Result r = FinetuneJob.run(spec("bert", tmp.resolve(p.toString()), args(Map.of("precision", p,
          "numTrainEpochs", 8, "learningRate", 5e-3, "saveStrategy", "no", "evalStrategy", "no")), false), backend,
          new TrainingListener() {});
      r.model().close();
      List<Double> losses = losses(r.events(), MetricsEvent.Split.TRAIN);
      double first = mean(losses.subList(0, 8));
      double last = mean(losses.subList(losses.size() - 8, losses.size()));
      if (p == Precision.FP32) {
        fp32Final = last;
      }
      // bf16/fp16 round activations and working weights to 8 / 11 significant bits: the same trend, loosely equal.
      assertTrue(losses.stream().allMatch(Double::isFinite) && last < first - 0.2 && Math.abs(last - fp32Final) < 0.2,
          p + " (fp32 ends at " + fp32Final + "): " + losses);
    }
  }

  private static double mean(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
  }

  @Test
  void multiLabelAndRegressionHeadsTrain(@TempDir Path tmp) throws IOException {
    List<LabelledText> multi = new ArrayList<>();
    List<LabelledText> regression = new ArrayList<>();
    for (LabelledText row : train) {
      boolean water = row.text().contains("water") || row.text().contains("river") || row.text().contains("lake");
      multi.add(new LabelledText(row.text(), null, water ? List.of(row.labels().get(0), "water")
          : row.labels(), row.source()));
      regression.add(new LabelledText(row.text(), null, List.of(Integer.toString(row.text().length())),
          row.source()));
    }
    FinetuneJob.Result m = FinetuneJob.run(new FinetuneJob.Spec(bases.resolve("gpt2"), multi, multi.subList(0, 16),
        "label", null, null, null, 0, args(Map.of("numTrainEpochs", 1)), tmp.resolve("multi"), false), backend,
        new TrainingListener() {});
    m.model().close();
    assertEquals(ProblemType.MULTI_LABEL, m.model().classification().problemType());
    assertEquals(List.of("culture", "geography", "water", "wildlife"), m.model().classification().labels());
    assertTrue(m.finalEval().classification().confusionMatrix() == null);
    FinetuneJob.Result r = FinetuneJob.run(new FinetuneJob.Spec(bases.resolve("bert"), regression,
        regression.subList(0, 16), "label", 1, null, null, 0, args(Map.of("numTrainEpochs", 1)), tmp.resolve("reg"),
        false), backend, new TrainingListener() {});
    r.model().close();
    assertEquals(ProblemType.REGRESSION, r.model().classification().problemType());
    assertTrue(Double.isFinite(r.finalEval().loss()) && r.finalEval().classification() == null);
    IllegalArgumentException metric = assertThrows(IllegalArgumentException.class,
        () -> FinetuneJob.run(new FinetuneJob.Spec(bases.resolve("bert"), regression, regression.subList(0, 16),
            "label", 1, null, null, 0, args(Map.of("metricForBestModel", "accuracy")), tmp.resolve("reg2"), false),
            backend, new TrainingListener() {}));
    assertEquals("metric_for_best_model 'accuracy' is not measured here (expected one of [loss])", metric.getMessage());
  }
}
