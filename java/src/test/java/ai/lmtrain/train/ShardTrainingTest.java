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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pre-training from token shards: BERT and GPT-2 train, evaluate on the val shard, and resume bit for bit. */
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
    PrepareData.run(tok, new PrepareData.Options(List.of(corpus), List.of(), CorpusOptions.defaults(), 0.1, 2000, 0, 2,
        5, dir), (a, b, c, d) -> { });
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
        32, args(), out, resume, LossWeighting.MEAN), train, eval, backend, listener);
  }

  @Test
  void bertAndGpt2TrainFromShardsAndResumeBitForBit(@TempDir Path tmp) throws IOException {
    Tokenizer wordPiece = TokenizerTrainer.trainWordPiece(List.of(corpus), TrainerOptions.wordPiece(300));
    Tokenizer bpe = TokenizerTrainer.trainByteLevelBpe(List.of(corpus), TrainerOptions.byteLevelBpe(400));
    ModelConfig bert = new BertConfig(wordPiece.vocabSize(), 32, 2, 2, 64, "gelu", 0.1, 0.1, 32, 2, 0.02, 1e-12, 0,
        "absolute", true);
    ModelConfig gpt2 = new Gpt2Config(bpe.vocabSize(), 32, 32, 2, 2, null, "gelu_new", 0.1, 0.1, 0.1, 1e-5, 0.02, true,
        false, 0, 0, true);
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
      TrainingListener crashAtStep6 = new TrainingListener() {
        @Override
        public void onSave(Trainer trainer, boolean last) {
          if (trainer.state().globalStep() == 6) {
            throw new IllegalStateException("simulated crash after the step-6 checkpoint");
          }
        }
      };
      assertThrows(IllegalStateException.class, () -> run(config, tok, data, out, false, crashAtStep6));
      PretrainingJob.Result resumed = run(config, tok, data, out, true, new TrainingListener() {});
      resumed.model().close();
      assertEquals(expected.subList(6, 10), PretrainingJobTest.trainLosses(resumed.events()), run + ": resumed losses equal the"
          + " uninterrupted run's");
      assertArrayEquals(Files.readAllBytes(tmp.resolve(run + "-whole/model.safetensors")),
          Files.readAllBytes(out.resolve("model.safetensors")), run + ": resumed weights equal the uninterrupted run's");
    }
  }
}
