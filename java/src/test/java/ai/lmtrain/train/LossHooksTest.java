package ai.lmtrain.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.layers.Pass;
import ai.lmtrain.models.Gpt2LMHeadModel;
import ai.lmtrain.models.ModelInput;
import ai.lmtrain.models.TinyModels;
import ai.lmtrain.tensor.CpuBackendTest;
import org.junit.jupiter.api.Test;

/** The custom-loss hook (per-sample weights, key tokens) and the fp16 loss scaler. */
class LossHooksTest extends CpuBackendTest {

  private static LossStep.Result run(Gpt2LMHeadModel model, ModelInput input, LossWeighting w) {
    arena.reset();
    return LossStep.run(model, Pass.inference(model.parameters(), arena), input, w, false, 1f);
  }

  @Test
  void perSampleWeightsGiveTheWeightedMeanOfSampleLosses() {
    ModelInput both = TinyModels.clmBatch();
    try (Gpt2LMHeadModel model = TinyModels.gpt2(backend, 3)) {
      double uniform = run(model, both, LossWeighting.perSample((in, b) -> 1.0)).loss();
      // per-sample mean losses, each sample alone
      double[] sample = new double[2];
      for (int b = 0; b < 2; b++) {
        int[] ids = java.util.Arrays.copyOfRange(both.inputIds(), b * 7, b * 7 + 7);
        int[] mask = java.util.Arrays.copyOfRange(both.attentionMask(), b * 7, b * 7 + 7);
        int[] labels = java.util.Arrays.copyOfRange(both.labels(), b * 7, b * 7 + 7);
        sample[b] = run(model, new ModelInput(1, 7, ids, mask, null, labels), LossWeighting.MEAN).loss();
      }
      assertEquals((sample[0] + sample[1]) / 2, uniform, 1e-5);
      double weighted = run(model, both, LossWeighting.perSample((in, b) -> b == 0 ? 3.0 : 1.0)).loss();
      assertEquals((3 * sample[0] + sample[1]) / 2, weighted, 1e-5);
      // key tokens: sample 0 holds id 17 once -> weight 1 + 2 * 1 = 3, sample 1 none -> 1
      double keyed = run(model, both, LossWeighting.keyTokens(new int[] {17}, 2.0)).loss();
      assertEquals(weighted, keyed, 1e-6);
    }
  }

  @Test
  void fp16ScalerSkipsOverflowsHalvesAndGrows() {
    LossScaler s = LossScaler.forPrecision(Precision.FP16);
    assertEquals(65536f, s.scale());
    assertTrue(s.update(true), "an overflow skips the step");
    assertEquals(32768f, s.scale());
    for (int i = 0; i < 1999; i++) {
      assertFalse(s.update(false));
    }
    assertEquals(32768f, s.scale());
    s.update(false);
    assertEquals(65536f, s.scale(), "2000 clean steps double the scale");
    LossScaler none = LossScaler.forPrecision(Precision.BF16);
    assertFalse(none.update(true));
    assertEquals(1f, none.scale());
  }
}
