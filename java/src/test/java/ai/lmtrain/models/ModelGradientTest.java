package ai.lmtrain.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.data.Batch;
import ai.lmtrain.data.SentencePairs;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.tensor.CpuBackendTest;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.ParameterStore;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.train.BatchLoss;
import ai.lmtrain.train.LossStep;
import ai.lmtrain.train.LossWeighting;
import ai.lmtrain.train.SentencePairObjective;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Whole-model backward passes against central finite differences of the loss, for several
 * elements of every parameter tensor: this checks the wiring of every layer's backward (residuals,
 * tied and untied output projections, packed q|k|v, masks, GPT-2's label shift, pre-LN layers and
 * RoBERTa positions, the next-sentence head). Tolerance: |analytic - numeric| <=
 * 2e-4 + 3e-2 |numeric| (fp32 loss differences with step 1e-2 relative to weights ~0.02).
 */
class ModelGradientTest extends CpuBackendTest {
  @Test
  void bertGradientsMatchFiniteDifferences() {
    try (BertForMaskedLM model = TinyModels.bert(backend, 7)) {
      checkGradients(model, TinyModels.batch());
    }
  }

  @Test
  void gpt2GradientsMatchFiniteDifferences() {
    try (Gpt2LMHeadModel model = TinyModels.gpt2(backend, 7)) {
      checkGradients(model, TinyModels.clmBatch());
    }
  }

  /**
   * Untied output projections (tie_word_embeddings false): lm_head.weight, cls.predictions.decoder.weight,
   * with PyTorch's default initialisation as in the from-scratch tutorials.
   */
  @Test
  void untiedOutputProjectionGradientsMatchFiniteDifferences() {
    try (Gpt2LMHeadModel gpt2 = TinyModels.initialized(new Gpt2LMHeadModel(TinyModels.gpt2Config()
        .withTieWordEmbeddings(false).withInitializer(InitScheme.PYTORCH), backend, DType.F32), 7)) {
      assertTrue(gpt2.parameters().table().contains("lm_head.weight"));
      checkGradients(gpt2, TinyModels.clmBatch());
    }
    try (BertForMaskedLM bert = TinyModels.initialized(new BertForMaskedLM(TinyModels.bertConfig()
        .withTieWordEmbeddings(false).withInitializer(InitScheme.PYTORCH), backend, DType.F32), 7)) {
      assertTrue(bert.parameters().table().contains("cls.predictions.decoder.weight"));
      checkGradients(bert, TinyModels.batch());
    }
  }

  /** Pre-LN BERT: the pre-LN layers, the final LayerNorm and RoBERTa's position ids on a padded batch. */
  @Test
  void preLayerNormBertGradientsMatchFiniteDifferences() {
    try (BertForMaskedLM model = TinyModels.preLnBert(backend, 7)) {
      checkGradients(model, TinyModels.batch());
    }
  }

  /**
   * BERT with both pre-training heads under the masked-LM + next-sentence loss: the pooler and
   * cls.seq_relationship gradients, and both heads' gradients meeting in the encoder.
   */
  @Test
  void preTrainingHeadGradientsMatchFiniteDifferences() {
    try (BertForPreTraining model = TinyModels.bertPreTraining(backend, 7)) {
      SentencePairObjective objective = new SentencePairObjective(model, SentencePairs.Task.NSP);
      Batch batch = TinyModels.sentencePairBatch();
      checkGradients(model, backward -> {
        arena.reset();
        BatchLoss r = objective.run(new Pass(model.parameters(), arena, backward, 1, 0), batch, backward, 1f);
        return backend.downloadFloats(r.lossSum())[0] * (double) r.meanScale();
      });
    }
  }

  /** The loss of the fixed batch; with {@code backward}, its gradients accumulate. */
  @FunctionalInterface
  private interface LossFunction {
    double loss(boolean backward);
  }

  private static void checkGradients(LanguageModel model, ModelInput input) {
    checkGradients(model, backward -> {
      arena.reset();
      Pass pass = backward ? new Pass(model.parameters(), arena, true, 1, 0)
          : Pass.inference(model.parameters(), arena);
      return LossStep.run(model, pass, input, LossWeighting.MEAN, backward, 1f).loss();
    });
  }

  private static void checkGradients(Model model, LossFunction lossOf) {
    ParameterStore store = model.parameters();
    store.zeroGrads();
    double loss = lossOf.loss(true);
    assertTrue(loss > 2 && loss < 7, "initial loss " + loss + " should be near ln(V) = " + Math.log(TinyModels.VOCAB));
    SplittableRandom pick = new SplittableRandom(3);
    int checked = 0;
    for (ParameterTable.Entry e : store.table().entries()) {
      float[] grad = backend.downloadFloats(store.grad(e.name()));
      float[] weights = backend.downloadFloats(store.master(e.name()));
      for (int k = 0; k < 3; k++) {
        int i = largestOrRandom(grad, pick, k);
        double h = 1e-2;
        float saved = weights[i];
        Function<Float, Double> at = v -> {
          weights[i] = v;
          store.setMaster(e.name(), weights);
          return lossOf.loss(false);
        };
        double numeric = (at.apply((float) (saved + h)) - at.apply((float) (saved - h))) / (2 * h);
        at.apply(saved);
        double analytic = grad[i];
        assertTrue(Math.abs(analytic - numeric) <= 2e-4 + 3e-2 * Math.abs(numeric),
            e.name() + "[" + i + "]: backward " + analytic + ", finite difference " + numeric);
        checked++;
      }
    }
    assertEquals(3 * store.table().entries().size(), checked);
  }

  /** k = 0: the element with the largest gradient (a strong signal); otherwise a random element. */
  private static int largestOrRandom(float[] grad, SplittableRandom pick, int k) {
    if (k > 0) {
      return pick.nextInt(grad.length);
    }
    int best = 0;
    for (int i = 1; i < grad.length; i++) {
      if (Math.abs(grad[i]) > Math.abs(grad[best])) {
        best = i;
      }
    }
    return best;
  }

  @Test
  void badInputsGiveClearErrors() {
    try (Gpt2LMHeadModel model = TinyModels.gpt2(backend, 1)) {
      arena.reset();
      Pass pass = Pass.inference(model.parameters(), arena);
      IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
          () -> model.logits(pass, ModelInput.of(new int[13]), new int[] {12}));
      assertEquals("sequence length 13 exceeds the model's maximum of 12 positions (max_position_embeddings /"
          + " n_positions)", tooLong.getMessage());
      IllegalArgumentException badId = assertThrows(IllegalArgumentException.class,
          () -> model.logits(pass, ModelInput.of(new int[] {1, 2, 53}), new int[] {2}));
      assertEquals("token id 53 at batch 0, position 2 is out of range for vocab_size 53", badId.getMessage());
      assertThrows(IllegalArgumentException.class, () -> new ModelInput(1, 3, new int[2], null, null, null));
    }
  }
}
