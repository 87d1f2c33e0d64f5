package ai.lmtrain.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.data.SentencePairs;
import ai.lmtrain.data.TextSource;
import ai.lmtrain.io.FileFormatException;
import ai.lmtrain.models.BertConfig;
import ai.lmtrain.models.BertForPreTraining;
import ai.lmtrain.models.ModelConfigs;
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
 * Pre-training BERT with masked LM + NSP or SOP on the toy corpus's three paragraphs (tiny model):
 * the folder is a BertForPreTraining, evaluations report the sentence-pair accuracy, and a run
 * resumed after a crash continues bit for bit (the pairs are rebuilt from the seed, the masks come
 * from the checkpointed loader state), for post-LN and pre-LN bodies.
 */
class SentencePairPretrainingTest {
  private static CpuBackend backend;
  private static Tokenizer tokenizer;
  private static List<String> documents;

  @BeforeAll
  static void setUp(@TempDir Path tmp) throws IOException {
    backend = new CpuBackend();
    List<String> lines = TextSource.bundledLines("toy_corpus.txt");
    Path corpus = tmp.resolve("toy.txt");
    Files.writeString(corpus, String.join("\n", lines) + "\n");
    tokenizer = TokenizerTrainer.trainWordPiece(List.of(corpus), TrainerOptions.wordPiece(300));
    documents = new ArrayList<>();
    for (int i = 0; i < lines.size(); i += 10) {
      documents.add(String.join("\n", lines.subList(i, i + 10)));
    }
  }

  @AfterAll
  static void tearDown() {
    backend.close();
  }

  private static BertConfig tinyBert(boolean preLayerNorm) {
    BertConfig c = new BertConfig(tokenizer.vocabSize(), 32, 2, 2, 64, "gelu", 0.1, 0.1, 40, 2, 0.02, 1e-12, 0,
        "absolute", true);
    return preLayerNorm ? c.withModelType(BertConfig.PRE_LAYER_NORM_MODEL_TYPE) : c;
  }

  private static PretrainingJob.Spec spec(BertConfig config, SentencePairs.Task task, Path out, boolean resume) {
    TrainingArguments args = TrainingArguments.defaults().copy(Map.of("numTrainEpochs", 2, "trainBatchSize", 4,
        "learningRate", 3e-3, "warmupSteps", 2, "loggingSteps", 1, "saveStrategy", "steps", "saveSteps", 3,
        "evalStrategy", "steps", "evalSteps", 4));
    return new PretrainingJob.Spec("bert", config, tokenizer, documents, documents.subList(0, 2),
        LmDatasets.Mode.LINES, 32, 32, args, out, resume, LossWeighting.MEAN, task, 4);
  }

  @Test
  void trainsBothHeadsAndWritesABertForPreTrainingFolder(@TempDir Path tmp) throws IOException {
    PretrainingJob.Result r = PretrainingJob.run(spec(tinyBert(false), SentencePairs.Task.NSP, tmp, false), backend,
        new TrainingListener() {});
    r.model().close();
    SentencePairMetrics pairs = r.finalEval().sentencePair();
    assertNotNull(pairs);
    assertEquals("nsp", pairs.task());
    assertEquals(r.finalEval().loss(), pairs.mlmLoss() + pairs.loss(), 1e-9, "loss = masked-LM + next-sentence");
    assertEquals(Math.exp(pairs.mlmLoss()), r.finalEval().perplexity(), 1e-9);
    assertEquals(pairs.accuracy(), r.finalEval().metric("eval_nsp_accuracy"));
    MetricsEvent lastEval = MetricsLog.read(tmp.resolve(MetricsLog.FILE_NAME)).stream()
        .filter(e -> e.split() == MetricsEvent.Split.EVAL).reduce((a, b) -> b).orElseThrow();
    assertEquals(pairs, lastEval.sentencePair(), "metrics.jsonl carries the sentence-pair metrics");
    assertEquals("BertForPreTraining", ModelConfigs.architecture(tmp.resolve(ModelConfigs.CONFIG_FILE)));
    try (BertForPreTraining loaded = Checkpoints.loadPreTraining(tmp, backend, DType.F32)) {
      assertTrue(loaded.parameters().table().contains("cls.seq_relationship.weight"));
    }
    try (var masked = Checkpoints.loadModel(tmp, backend, DType.F32)) {
      assertTrue(!masked.parameters().table().contains("bert.pooler.dense.weight"), "fill-mask drops the NSP head");
    }
  }

  @Test
  void resumeAfterACrashContinuesWithTheSameLossesAndWeights(@TempDir Path tmp) throws IOException {
    for (boolean preLayerNorm : new boolean[] {false, true}) {
      SentencePairs.Task task = preLayerNorm ? SentencePairs.Task.SOP : SentencePairs.Task.NSP;
      BertConfig config = tinyBert(preLayerNorm);
      String name = config.modelType() + "-" + task.key();
      PretrainingJob.Result whole = PretrainingJob.run(spec(config, task, tmp.resolve(name + "-whole"), false), backend,
          new TrainingListener() {});
      whole.model().close();

      Path out = tmp.resolve(name + "-crashed");
      TrainingListener crashAtStep6 = new TrainingListener() {
        @Override
        public void onSave(Trainer trainer, boolean last) {
          if (trainer.state().globalStep() == 6) {
            throw new IllegalStateException("simulated crash after the step-6 checkpoint");
          }
        }
      };
      assertThrows(IllegalStateException.class, () -> PretrainingJob.run(spec(config, task, out, false), backend,
          crashAtStep6));
      PretrainingJob.Result resumed = PretrainingJob.run(spec(config, task, out, true), backend,
          new TrainingListener() {});
      resumed.model().close();

      List<Double> expected = FinetuneJobTest.losses(whole.events(), MetricsEvent.Split.TRAIN);
      assertTrue(expected.size() > 8, name + ": " + expected.size() + " steps");
      assertEquals(expected.subList(6, expected.size()),
          FinetuneJobTest.losses(resumed.events(), MetricsEvent.Split.TRAIN),
          name + ": resumed losses equal the uninterrupted run's");
      List<Double> expectedEval = FinetuneJobTest.losses(whole.events(), MetricsEvent.Split.EVAL);
      List<Double> resumedEval = FinetuneJobTest.losses(resumed.events(), MetricsEvent.Split.EVAL);
      assertEquals(expectedEval.subList(expectedEval.size() - resumedEval.size(), expectedEval.size()), resumedEval,
          name + ": resumed evaluations equal the uninterrupted run's");
      assertArrayEquals(Files.readAllBytes(tmp.resolve(name + "-whole/model.safetensors")),
          Files.readAllBytes(out.resolve("model.safetensors")),
          name + ": resumed weights equal the uninterrupted run's");
    }
  }

  @Test
  void resumingWithAnotherObjectiveIsAClearError(@TempDir Path tmp) throws IOException {
    PretrainingJob.Spec nsp = spec(tinyBert(false), SentencePairs.Task.NSP, tmp, false);
    PretrainingJob.run(nsp, backend, new TrainingListener() {}).model().close();
    PretrainingJob.Spec maskedLmOnly = new PretrainingJob.Spec("bert", nsp.config(), tokenizer,
        TextSource.bundledLines("toy_corpus.txt"), List.of(), LmDatasets.Mode.LINES, 32, 32,
        nsp.args().copy(Map.of("numTrainEpochs", 3)), tmp, true, LossWeighting.MEAN);
    FileFormatException e = assertThrows(FileFormatException.class,
        () -> PretrainingJob.run(maskedLmOnly, backend, new TrainingListener() {}));
    assertTrue(e.getMessage().contains("was the checkpoint trained with another model config or --objective?"),
        e.getMessage());
  }
}
