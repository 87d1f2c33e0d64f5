package ai.lmtrain.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import ai.lmtrain.tensor.AdamWParams;
import ai.lmtrain.tensor.CpuBackendTest;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.ParameterStore;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tensor.Tensor;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The optimizer's decay runs: they tile the parameter buffer, alternate between decay and no
 * decay, and updating run by run gives, bit for bit, what one fused step over the whole buffer with
 * a per-element decay mask gives (the kernel's own reference is AdamWKernelTest's torch.optim.AdamW).
 */
class AdamWTest extends CpuBackendTest {

  /** A GPT-2-like layout: decayed matrices between undecayed biases/norms, aligned, packed and padded entries. */
  private static ParameterTable table() {
    return new ParameterTable()
        .addPadded("wte.weight", true, 40, 37, 8)
        .add("wpe.weight", true, 16, 8)
        .add("h.0.ln_1.weight", false, 8)
        .add("h.0.ln_1.bias", false, 8)
        .add("h.0.attn.c_attn.weight", true, 8, 24)
        .add("h.0.attn.c_attn.bias", false, 24)
        .addPacked("h.0.attn.q.weight", true, 8, 8)
        .addPacked("h.0.attn.k.weight", true, 8, 8)
        .add("h.0.mlp.c_fc.bias", false, 33)
        .add("ln_f.weight", false, 8);
  }

  @Test
  void runsTileTheBufferAndFollowTheEntries() {
    ParameterTable t = table();
    List<AdamW.DecayRun> runs = AdamW.decayRuns(t, ParameterTable.Entry::decay);
    assertEquals(6, runs.size(), runs.toString());
    long next = 0;
    for (int i = 0; i < runs.size(); i++) {
      AdamW.DecayRun r = runs.get(i);
      assertEquals(next, r.offset(), "run " + i + " starts where the one before ends");
      next += r.length();
      if (i > 0) {
        assertNotEquals(runs.get(i - 1).decay(), r.decay(), "neighbouring runs differ");
      }
    }
    assertEquals(t.totalElements(), next, "the runs cover the whole buffer");
    for (ParameterTable.Entry e : t.entries()) {
      AdamW.DecayRun r = runs.stream().filter(x -> x.offset() <= e.offset() && e.offset() < x.offset() + x.length())
          .findFirst().orElseThrow();
      assertEquals(e.decay(), r.decay(), e.name());
      assertEquals(true, e.offset() + e.storedNumel() <= r.offset() + r.length(), e.name() + " lies in one run");
    }
  }

  @Test
  void runWiseStepsEqualOneMaskedStepBitForBit() {
    ParameterTable t = table();
    int n = Math.toIntExact(t.totalElements());
    Random random = new Random(7);
    float[] initial = new float[n];
    byte[] mask = new byte[n];
    for (ParameterTable.Entry e : t.entries()) {
      for (long i = e.offset(); i < e.offset() + e.storedNumel(); i++) {
        initial[(int) i] = (float) random.nextGaussian();
        mask[(int) i] = (byte) (e.decay() ? 1 : 0);
      }
    }
    try (ParameterStore store = new ParameterStore(backend, t, DType.F32);
        AdamW adamw = new AdamW(store, 0.9f, 0.95f, 1e-8f, 0.1f, ParameterTable.Entry::decay)) {
      backend.upload(store.masterAll(), initial);
      Tensor p = arena.allocate(DType.F32, n);
      Tensor m = arena.zeros(DType.F32, n);
      Tensor v = arena.zeros(DType.F32, n);
      Tensor decayMask = arena.allocate(DType.U8, n);
      backend.upload(p, initial);
      backend.upload(decayMask, mask);
      for (int step = 1; step <= 3; step++) {
        float[] grads = new float[n];
        for (ParameterTable.Entry e : t.entries()) {
          for (long i = e.offset(); i < e.offset() + e.storedNumel(); i++) {
            grads[(int) i] = (float) random.nextGaussian();
          }
        }
        backend.upload(store.gradAll(), grads);
        float lr = 1e-2f / step;
        adamw.step(lr, 0.5f);
        backend.adamwStep(p, null, m, v, store.gradAll(), decayMask,
            new AdamWParams(lr, 0.9f, 0.95f, 1e-8f, 0.1f, step, 0.5f));
        assertArrayEquals(backend.downloadFloats(p), backend.downloadFloats(store.masterAll()), "params, step " + step);
        assertArrayEquals(backend.downloadFloats(m), backend.downloadFloats(adamw.firstMoments()), "m, step " + step);
        assertArrayEquals(backend.downloadFloats(v), backend.downloadFloats(adamw.secondMoments()), "v, step " + step);
      }
    }
  }
}
