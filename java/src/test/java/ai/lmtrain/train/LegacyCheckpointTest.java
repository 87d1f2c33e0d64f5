package ai.lmtrain.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.data.TextSource;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.ModelConfig;
import ai.lmtrain.models.ModelConfigs;
import ai.lmtrain.tensor.CpuBackend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tokenizers.Tokenizer;
import ai.lmtrain.tokenizers.Tokenizers;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Folders written before the vocabulary was padded in the parameter layout (test resources
 * {@code legacy/}, made by {@code legacy/make.jsh} with the code of that time: 4 training steps of a
 * tiny model with vocab_size 150, checkpointed, and the losses of the same run trained 8 steps
 * without interruption) still load, save back to the same bytes, and resume: steps 5 to 8 after
 * resuming the step-4 checkpoint reproduce the old code's uninterrupted losses. Tolerance 1e-5
 * relative (the chunked LM head may add the rows' contributions to the embedding gradient in
 * another order than the old unchunked one).
 */
class LegacyCheckpointTest {
  private static final List<String> TEXTS = TextSource.bundledLines("toy_corpus.txt").subList(0, 24);
  private static CpuBackend backend;

  @BeforeAll
  static void openBackend() {
    backend = new CpuBackend();
  }

  @AfterAll
  static void closeBackend() {
    backend.close();
  }

  private static Path fixture(String name) throws URISyntaxException {
    return Path.of(LegacyCheckpointTest.class.getResource("/legacy/" + name).toURI());
  }

  @ParameterizedTest
  @ValueSource(strings = {"gpt2", "bert"})
  void preChangeFolderLoadsAndSavesBackUnchanged(String type, @TempDir Path tmp) throws Exception {
    Path folder = fixture(type + "-step4");
    try (LanguageModel model = Checkpoints.loadModel(folder, backend, DType.F32)) {
      assertEquals(150, model.vocabSize());
      Checkpoints.saveModel(tmp.resolve("again"), model, null);
    }
    assertArrayEquals(Files.readAllBytes(folder.resolve(Checkpoints.WEIGHTS_FILE)),
        Files.readAllBytes(tmp.resolve("again").resolve(Checkpoints.WEIGHTS_FILE)),
        type + ": the weights saved again are byte for byte the pre-change file (exactly vocab_size rows)");
  }

  @ParameterizedTest
  @ValueSource(strings = {"gpt2", "bert"})
  void preChangeCheckpointResumesWithTheOldLosses(String type, @TempDir Path tmp) throws Exception {
    Path run = copy(fixture(type + "-step4"), tmp.resolve("run"));
    ModelConfig config = ModelConfigs.read(run);
    Tokenizer tokenizer = Tokenizers.load(run);
    TrainingArguments args = TrainingArguments.defaults().copy(Map.of("maxSteps", 8, "trainBatchSize", 4,
        "learningRate", 3e-3, "lrSchedulerType", "constant_with_warmup", "warmupSteps", 2, "weightDecay", 0.01,
        "loggingSteps", 1, "evalStrategy", "no", "saveStrategy", "steps", "saveSteps", 4));
    PretrainingJob.Result resumed = PretrainingJob.run(new PretrainingJob.Spec(type, config, tokenizer, TEXTS, List.of(),
        LmDatasets.Mode.LINES, 32, 32, args, run, true, LossWeighting.MEAN), backend, new TrainingListener() {});
    resumed.model().close();

    List<Double> expected =
        PretrainingJobTest.trainLosses(MetricsLog.read(fixture(type + "-uninterrupted-metrics.jsonl")));
    List<Double> actual = PretrainingJobTest.trainLosses(resumed.events());
    assertEquals(4, actual.size(), "steps 5 to 8");
    for (int i = 0; i < actual.size(); i++) {
      double want = expected.get(4 + i);
      assertTrue(Math.abs(actual.get(i) - want) <= 1e-5 * Math.abs(want),
          type + " step " + (5 + i) + ": loss " + actual.get(i) + ", the old code's uninterrupted run had " + want);
    }
  }

  private static Path copy(Path from, Path to) throws IOException {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
    return to;
  }
}
