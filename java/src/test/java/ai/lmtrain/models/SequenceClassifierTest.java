package ai.lmtrain.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.data.Batch;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.tensor.CpuBackendTest;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.ParameterStore;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.train.Checkpoints;
import ai.lmtrain.train.ClassificationObjective;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * BERT and GPT-2 sequence classifiers: whole-model gradients of each problem type's loss against
 * central finite differences (3 elements of every parameter tensor; tolerance 2e-4 + 3e-2 relative,
 * as {@link ModelGradientTest}), the last-token rule of GPT-2's head, and save / load round trips.
 */
class SequenceClassifierTest extends CpuBackendTest {

  private static double loss(ClassificationObjective objective, Batch batch) {
    arena.reset();
    var r = objective.run(Pass.inference(objective.model().parameters(), arena), batch, false, 1f);
    return backend.downloadFloats(r.lossSum())[0] * (double) r.meanScale();
  }

  @ParameterizedTest
  @CsvSource({"bert, SINGLE_LABEL", "bert, MULTI_LABEL", "bert, REGRESSION", "gpt2, SINGLE_LABEL",
      "gpt2, MULTI_LABEL", "gpt2, REGRESSION"})
  void gradientsMatchFiniteDifferences(String type, ProblemType problem) {
    try (SequenceClassifier model = TinyModels.classifier(type, problem, 3, backend, 7)) {
      ClassificationObjective objective = new ClassificationObjective(model);
      Batch batch = TinyModels.classificationBatch(problem);
      ParameterStore store = model.parameters();
      store.zeroGrads();
      arena.reset();
      objective.run(new Pass(store, arena, true, 1, 0), batch, true, 1f);
      SplittableRandom pick = new SplittableRandom(3);
      for (ParameterTable.Entry e : store.table().entries()) {
        float[] grad = backend.downloadFloats(store.grad(e.name()));
        float[] weights = backend.downloadFloats(store.master(e.name()));
        for (int k = 0; k < 3; k++) {
          int i = k == 0 ? argmaxAbs(grad) : pick.nextInt(grad.length);
          float saved = weights[i];
          double h = 1e-2;
          weights[i] = (float) (saved + h);
          store.setMaster(e.name(), weights);
          double plus = loss(objective, batch);
          weights[i] = (float) (saved - h);
          store.setMaster(e.name(), weights);
          double minus = loss(objective, batch);
          weights[i] = saved;
          store.setMaster(e.name(), weights);
          double numeric = (plus - minus) / (2 * h);
          assertTrue(Math.abs(grad[i] - numeric) <= 2e-4 + 3e-2 * Math.abs(numeric),
              type + " " + problem + " " + e.name() + "[" + i + "]: backward " + grad[i] + ", finite difference "
                  + numeric);
        }
      }
    }
  }

  private static int argmaxAbs(float[] x) {
    int best = 0;
    for (int i = 1; i < x.length; i++) {
      best = Math.abs(x[i]) > Math.abs(x[best]) ? i : best;
    }
    return best;
  }

  @Test
  void gpt2ReadsTheLastNonPaddingTokenAsTransformersDoes() {
    try (SequenceClassifier model = TinyModels.classifier("gpt2", ProblemType.SINGLE_LABEL, 2, backend, 1)) {
      Gpt2ForSequenceClassification gpt2 = (Gpt2ForSequenceClassification) model;
      int[] ids = {
        5, 6, 7, 0, 0, // right padding: position 2
        0, 0, 5, 6, 7, // left padding: position 4
        0, 0, 0, 0, 0, // nothing but padding: position 0 (argmax of zeros)
        5, 0, 6, 0, 0, // a pad id inside the text: the rightmost non-pad token, position 2
      };
      assertArrayEquals(new int[] {2, 9, 10, 17}, gpt2.lastTokenRows(new ModelInput(4, 5, ids, null, null, null)));
      // The logits of a padded sequence equal those of the same sequence alone, unpadded.
      arena.reset();
      float[] padded = backend.downloadFloats(model.forward(Pass.inference(model.parameters(), arena),
          new ModelInput(2, 5, new int[] {5, 6, 7, 0, 0, 8, 9, 10, 11, 12}, new int[] {1, 1, 1, 0, 0, 1, 1, 1, 1, 1},
              null, null)));
      arena.reset();
      float[] alone = backend.downloadFloats(model.forward(Pass.inference(model.parameters(), arena),
          ModelInput.of(new int[] {5, 6, 7})));
      assertEquals(alone[0], padded[0], 1e-5);
      assertEquals(alone[1], padded[1], 1e-5);
      SequenceClassifier unpadded = SequenceClassifier.create(TinyModels.gpt2Config(),
          model.classification().withPadTokenId(null), backend, DType.F32);
      try (unpadded) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> ((Gpt2ForSequenceClassification) unpadded).lastTokenRows(new ModelInput(2, 5,
                java.util.Arrays.copyOf(ids, 10), null, null, null)));
        assertTrue(e.getMessage().startsWith("cannot classify a batch of 2 sequences without a pad_token_id"),
            e.getMessage());
      }
    }
  }

  @ParameterizedTest
  @CsvSource({"bert", "gpt2"})
  void savedClassifiersLoadBackWithTheirLabels(String type, @TempDir Path dir) throws Exception {
    try (SequenceClassifier model = TinyModels.classifier(type, ProblemType.MULTI_LABEL, 3, backend, 5)) {
      Checkpoints.saveModel(dir, model, null);
      String json = Files.readString(dir.resolve("config.json"));
      assertTrue(json.contains(type.equals("bert") ? "\"BertForSequenceClassification\""
          : "\"GPT2ForSequenceClassification\""), json);
      assertTrue(json.contains("\"problem_type\": \"multi_label_classification\""), json);
      assertTrue(json.contains("\"1\": \"LABEL_1\""), json);
      try (SequenceClassifier loaded = Checkpoints.loadClassifier(dir, backend, DType.F32)) {
        assertEquals(model.classification(), loaded.classification());
        assertArrayEquals(backend.downloadFloats(model.parameters().masterAll()),
            backend.downloadFloats(loaded.parameters().masterAll()));
      }
    }
  }

  @ParameterizedTest
  @CsvSource({"bert", "gpt2"})
  void aLanguageModelIsABaseItsHeadIsDroppedAndTheNewHeadInitialised(String type, @TempDir Path dir)
      throws Exception {
    try (LanguageModel lm = type.equals("bert") ? TinyModels.bert(backend, 3) : TinyModels.gpt2(backend, 3)) {
      Checkpoints.saveModel(dir, lm, null);
      SequenceClassification head = new SequenceClassification(List.of("neg", "pos"), ProblemType.SINGLE_LABEL,
          type.equals("gpt2") ? 0 : null, null);
      List<String> initialized = new ArrayList<>();
      try (SequenceClassifier model = Checkpoints.loadClassifierBase(dir, head, backend, DType.F32, 11, initialized)) {
        assertEquals(type.equals("bert")
            ? List.of("bert.pooler.dense.weight", "bert.pooler.dense.bias", "classifier.weight", "classifier.bias")
            : List.of("score.weight"), initialized);
        String embedding = type.equals("bert") ? "bert.embeddings.word_embeddings.weight" : "transformer.wte.weight";
        assertArrayEquals(backend.downloadFloats(lm.parameters().master(embedding)),
            backend.downloadFloats(model.parameters().master(embedding)));
        float[] head0 = backend.downloadFloats(model.parameters().master(initialized.get(0)));
        double sumSq = 0;
        for (float v : head0) {
          sumSq += v * v;
        }
        double std = Math.sqrt(sumSq / head0.length);
        assertTrue(std > 0.012 && std < 0.028, "initialised head std " + std + " (initializer_range 0.02)");
        ai.lmtrain.io.FileFormatException notClassifier = assertThrows(ai.lmtrain.io.FileFormatException.class,
            () -> Checkpoints.loadClassifier(dir, backend, DType.F32));
        assertTrue(notClassifier.getMessage().contains("not a sequence-classification model"),
            notClassifier.getMessage());
      }
    }
  }

  @Test
  void aHuggingFaceClassifierFolderLoads(@TempDir Path dir) throws Exception {
    // transformers writes id2label / label2id and, before a first training step, no problem_type.
    try (SequenceClassifier model = TinyModels.classifier("bert", ProblemType.SINGLE_LABEL, 2, backend, 4)) {
      Checkpoints.saveModel(dir, model, null);
    }
    String hf = Files.readString(dir.resolve("config.json")).replace("  \"problem_type\": \"single_label_classification\",\n", "")
        .replace("\"LABEL_0\"", "\"NEGATIVE\"").replace("\"LABEL_1\"", "\"POSITIVE\"");
    Files.writeString(dir.resolve("config.json"), hf);
    try (SequenceClassifier loaded = Checkpoints.loadClassifier(dir, backend, DType.F32)) {
      assertEquals(List.of("NEGATIVE", "POSITIVE"), loaded.classification().labels());
      assertEquals(ProblemType.SINGLE_LABEL, loaded.classification().problemType());
    }
    Files.writeString(dir.resolve("config.json"), hf.replace("\"0\": \"NEGATIVE\"", "\"2\": \"NEGATIVE\""));
    ai.lmtrain.io.FileFormatException bad = assertThrows(ai.lmtrain.io.FileFormatException.class,
        () -> Checkpoints.loadClassifier(dir, backend, DType.F32));
    assertTrue(bad.getMessage().contains("invalid classification head: id2label ids must be 0..1 (got [1, 2])"),
        bad.getMessage());
  }
}
