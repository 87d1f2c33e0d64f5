package ai.lmtrain.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.data.TextSource;
import ai.lmtrain.data.TokenDataset;
import ai.lmtrain.data.corpus.CorpusOptions;
import ai.lmtrain.data.shards.PrepareData;
import ai.lmtrain.data.shards.ShardDirectory;
import ai.lmtrain.io.StrictJson;
import ai.lmtrain.models.BertConfig;
import ai.lmtrain.models.Gpt2Config;
import ai.lmtrain.models.ModelConfig;
import ai.lmtrain.tensor.CpuBackend;
import ai.lmtrain.tokenizers.Tokenizer;
import ai.lmtrain.tokenizers.TokenizerTrainer;
import ai.lmtrain.tokenizers.TrainerOptions;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pre-training from token shards: BERT and GPT-2 train, evaluate on the val shard, and resume bit for bit;
 * resuming refuses other data than the checkpoint's.
 */
class ShardTrainingTest {
  private static CpuBackend backend;
  private static Path corpus;

  @BeforeAll
  static void setUp(@TempDir Path tmp) throws IOException {
    backend = new CpuBackend();
    corpus = tmp.resolve("toy.txt");
    Files.writeString(corpus, String.join("\n", TextSource.bundledLines("toy_corpus.txt")) + "\n");
  }

  @AfterAll
  static void tearDown() {
    backend.close();
  }

  private static Path shards(Tokenizer tok, Path dir) throws IOException {
    return shards(tok, dir, 2000);
  }

  private static Path shards(Tokenizer tok, Path dir, int shardTokens) throws IOException {
    PrepareData.run(tok, new PrepareData.Options(List.of(corpus), List.of(), CorpusOptions.defaults(), 0.1, shardTokens,
        0, 2, 5, dir), (a, b, c, d) -> { });
    return dir;
  }

  private static TrainingArguments args() {
    return TrainingArguments.defaults().copy(Map.of("maxSteps", 10, "trainBatchSize", 4, "evalBatchSize", 8,
        "learningRate", 3e-3, "warmupSteps", 2, "loggingSteps", 1, "saveStrategy", "steps", "saveSteps", 3));
  }

  private static PretrainingJob.Result run(ModelConfig config, Tokenizer tok, Path data, Path out, boolean resume,
      TrainingListener listener) throws IOException {
    ShardDirectory dir = ShardDirectory.open(data, tok);
    TokenDataset train = ShardDirectory.examples(dir.train(), tok, 32);
    TokenDataset eval = ShardDirectory.examples(dir.validation(), tok, 32);
    return PretrainingJob.run(new PretrainingJob.Spec(config.modelType(), config, tok, List.of(), List.of(), null, 32,
        32, args(), out, resume, LossWeighting.MEAN).withData(TrainingData.of(dir.identity())), train, eval, backend,
        listener);
  }

  /** The same model on the corpus's lines as text (--corpus). */
  private static PretrainingJob.Result runOnText(ModelConfig config, Tokenizer tok, Path out, boolean resume,
      TrainingListener listener) throws IOException {
    List<String> lines = TextSource.bundledLines("toy_corpus.txt");
    return PretrainingJob.run(new PretrainingJob.Spec(config.modelType(), config, tok, lines, List.of(),
        LmDatasets.Mode.CHUNKS, 32, 32, args(), out, resume, LossWeighting.MEAN), backend, listener);
  }

  private static TrainingListener crashAtStep(long step) {
    return new TrainingListener() {
      @Override
      public void onSave(Trainer trainer, boolean last) {
        if (trainer.state().globalStep() == step) {
          throw new IllegalStateException("simulated crash after the step-" + step + " checkpoint");
        }
      }
    };
  }

  private static Gpt2Config gpt2(Tokenizer bpe) {
    return new Gpt2Config(bpe.vocabSize(), 32, 32, 2, 2, null, "gelu_new", 0.1, 0.1, 0.1, 1e-5, 0.02, true, false, 0, 0,
        true);
  }

  @Test
  void bertAndGpt2TrainFromShardsAndResumeBitForBit(@TempDir Path tmp) throws IOException {
    Tokenizer wordPiece = TokenizerTrainer.trainWordPiece(List.of(corpus), TrainerOptions.wordPiece(300));
    Tokenizer bpe = TokenizerTrainer.trainByteLevelBpe(List.of(corpus), TrainerOptions.byteLevelBpe(400));
    ModelConfig bert = new BertConfig(wordPiece.vocabSize(), 32, 2, 2, 64, "gelu", 0.1, 0.1, 32, 2, 0.02, 1e-12, 0,
        "absolute", true);
    ModelConfig gpt2 = gpt2(bpe);
    for (ModelConfig config : new ModelConfig[] {bert, gpt2}) {
      Tokenizer tok = config == bert ? wordPiece : bpe;
      String run = config.modelType();
      Path data = shards(tok, tmp.resolve(run + "-data"));
      PretrainingJob.Result whole = run(config, tok, data, tmp.resolve(run + "-whole"), false, new TrainingListener() {});
      whole.model().close();
      assertNotNull(whole.finalEval(), run + ": evaluated on the val shard");
      List<Double> expected = PretrainingJobTest.trainLosses(whole.events());
      assertEquals(10, expected.size());
      assertTrue(expected.get(9) < expected.get(0), run + ": the loss decreases: " + expected);

      Path out = tmp.resolve(run + "-crashed");
      assertThrows(IllegalStateException.class, () -> run(config, tok, data, out, false, crashAtStep(6)));
      PretrainingJob.Result resumed = run(config, tok, data, out, true, new TrainingListener() {});
      resumed.model().close();
      assertEquals(expected.subList(6, 10), PretrainingJobTest.trainLosses(resumed.events()), run + ": resumed losses equal the"
          + " uninterrupted run's");
      assertArrayEquals(Files.readAllBytes(tmp.resolve(run + "-whole/model.safetensors")),
          Files.readAllBytes(out.resolve("model.safetensors")), run + ": resumed weights equal the uninterrupted run's");
    }
  }

  @Test
  void resumeRefusesOtherDataAndWarnsWhenTheCheckpointDoesNotSay(@TempDir Path tmp) throws IOException {
    Tokenizer bpe = TokenizerTrainer.trainByteLevelBpe(List.of(corpus), TrainerOptions.byteLevelBpe(400));
    Gpt2Config config = gpt2(bpe);
    Path data = shards(bpe, tmp.resolve("data"));
    Path sameShards = shards(bpe, tmp.resolve("same-shards"), 1500); // the train tokens fit one shard either way
    Path resharded = shards(bpe, tmp.resolve("resharded"), 500);
    Path out = tmp.resolve("run");
    assertThrows(IllegalStateException.class, () -> run(config, bpe, data, out, false, crashAtStep(3)));
    Path stateFile = out.resolve("checkpoint").resolve(Checkpoints.STATE_FILE);
    String state = Files.readString(stateFile);
    assertTrue(state.contains("\"dataset_json_sha256\" : \"" + ShardDirectory.open(data, bpe).datasetSha256() + "\""),
        state);
    byte[] metrics = Files.readAllBytes(out.resolve(MetricsLog.FILE_NAME));

    String advice = "; resume with the --data folder the run trained on (" + data.toAbsolutePath() + ")";
    IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
        () -> run(config, bpe, resharded, out, true, new TrainingListener() {}));
    assertEquals(resharded.toAbsolutePath().resolve("dataset.json") + ": the shards differ from the checkpoint's"
        + " (train_000001.bin had " + ShardDirectory.open(data, bpe).train().get(0).size() + " tokens, now 500)" + advice,
        other.getMessage());
    IllegalArgumentException reprepared = assertThrows(IllegalArgumentException.class,
        () -> run(config, bpe, sameShards, out, true, new TrainingListener() {}));
    assertTrue(reprepared.getMessage().startsWith(sameShards.toAbsolutePath().resolve("dataset.json") + ": differs from"
        + " the dataset.json the checkpoint trained on (SHA-256 "), reprepared.getMessage());
    assertTrue(reprepared.getMessage().endsWith(" though its shards have the same names and token counts (prepared"
        + " again from other inputs or options?)" + advice), reprepared.getMessage());
    IllegalArgumentException text = assertThrows(IllegalArgumentException.class,
        () -> runOnText(config, bpe, out, true, new TrainingListener() {}));
    assertEquals(out.resolve("checkpoint") + ": the checkpoint trained on the token shards in " + data.toAbsolutePath()
        + "; resume with --data " + data.toAbsolutePath() + ", not --corpus", text.getMessage());
    assertArrayEquals(metrics, Files.readAllBytes(out.resolve(MetricsLog.FILE_NAME)), "a refused resume changes nothing");

    Path textRun = tmp.resolve("text-run");
    assertThrows(IllegalStateException.class, () -> runOnText(config, bpe, textRun, false, crashAtStep(3)));
    IllegalArgumentException shardsForText = assertThrows(IllegalArgumentException.class,
        () -> run(config, bpe, data, textRun, true, new TrainingListener() {}));
    assertEquals(textRun.resolve("checkpoint") + ": the checkpoint trained on text files (--corpus); resume with"
        + " --corpus and the files it trained on, not --data " + data.toAbsolutePath(), shardsForText.getMessage());

    // a checkpoint written before the record: resumed, with a warning
    ObjectNode old = StrictJson.readObject(stateFile);
    assertNotNull(old.remove("training_data"));
    Files.writeString(stateFile, old.toPrettyString());
    PrintStream stderr = System.err;
    ByteArrayOutputStream logged = new ByteArrayOutputStream();
    PretrainingJob.Result resumed;
    try {
      System.setErr(new PrintStream(logged, true, StandardCharsets.UTF_8));
      resumed = run(config, bpe, data, out, true, new TrainingListener() {});
    } finally {
      System.setErr(stderr);
    }
    resumed.model().close();
    assertEquals(7, PretrainingJobTest.trainLosses(resumed.events()).size(), "steps 4 to 10");
    assertTrue(logged.toString(StandardCharsets.UTF_8).contains("[WARN] gpt2: " + stateFile + " does not record the"
        + " data it trained on (it predates that record), so whether this run reads the same data cannot be checked"),
        logged.toString(StandardCharsets.UTF_8));
  }
}
