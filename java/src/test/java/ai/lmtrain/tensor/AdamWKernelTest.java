package ai.lmtrain.tensor;

import static ai.lmtrain.tensor.KernelTestSupport.assertClose;
import static ai.lmtrain.tensor.KernelTestSupport.f32;
import static ai.lmtrain.tensor.KernelTestSupport.randomFloats;
import static ai.lmtrain.tensor.KernelTestSupport.randomInts;
import static ai.lmtrain.tensor.KernelTestSupport.roundTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.nativebridge.NativeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * AdamW steps on the CPU backend against a double-precision Java re-implementation of
 * torch.optim.AdamW (decoupled decay p *= 1 - lr wd, bias-corrected moments). Several steps with
 * a changing learning rate, with and without a decay mask, with a gradient scale. Tolerances after
 * five steps: params atol 1e-6 rtol 1e-5, moments rtol 1e-5 (fp32 state vs double state).
 * params_work must equal the F32 params rounded to its type, bit for bit.
 */
class AdamWKernelTest extends CpuBackendTest {
  private static final int STEPS = 5;
  @AfterEach
  void releaseTensors() {
    arena.reset();
  }

  /** torch.optim.AdamW's single-tensor step in double precision; updates p, m, v in place. */
  static void torchAdamW(double[] p, double[] m, double[] v, float[] grads, byte[] decayMask, AdamWParams a) {
    double bias1 = 1 - Math.pow(a.beta1(), a.step());
    double bias2 = 1 - Math.pow(a.beta2(), a.step());
    for (int i = 0; i < p.length; i++) {
      double g = (double) grads[i] * a.gradScale();
      double wd = decayMask == null || decayMask[i] != 0 ? a.weightDecay() : 0;
      p[i] *= 1 - (double) a.lr() * wd;
      m[i] = a.beta1() * m[i] + (1 - (double) a.beta1()) * g;
      v[i] = a.beta2() * v[i] + (1 - (double) a.beta2()) * g * g;
      double denom = Math.sqrt(v[i]) / Math.sqrt(bias2) + a.eps();
      p[i] -= a.lr() / bias1 * m[i] / denom;
    }
  }

  static double[] toDouble(float[] x) {
    double[] d = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      d[i] = x[i];
    }
    return d;
  }

  static byte[] randomMask(long seed, int n) {
    int[] bits = randomInts(seed, n, 2);
    byte[] mask = new byte[n];
    for (int i = 0; i < n; i++) {
      mask[i] = (byte) bits[i];
    }
    return mask;
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 31, 32, 33, 127, 100_003})
  void severalStepsMatchTorchAdamW(int n) {
    for (boolean masked : new boolean[] {false, true}) {
      arena.reset();
      String at = "n=" + n + (masked ? " with decay mask" : " without decay mask");
      float[] params0 = randomFloats(n, n, 1);
      byte[] mask = masked ? randomMask(n + 1, n) : null;
      Tensor params = f32(backend, arena, params0, n);
      Tensor m = arena.zeros(DType.F32, n);
      Tensor v = arena.zeros(DType.F32, n);
      Tensor grads = arena.allocate(DType.F32, n);
      Tensor decayMask = null;
      if (masked) {
        decayMask = arena.allocate(DType.U8, n);
        backend.upload(decayMask, mask);
      }
      double[] p = toDouble(params0);
      double[] mRef = new double[n];
      double[] vRef = new double[n];
      for (int step = 1; step <= STEPS; step++) {
        float[] g = randomFloats(1000L * step + n, n, 3);
        backend.upload(grads, g);
        AdamWParams a = new AdamWParams(1e-2f / step, 0.9f, 0.999f, 1e-8f, 0.1f, step, 0.5f);
        backend.adamwStep(params, null, m, v, grads, decayMask, a);
        torchAdamW(p, mRef, vRef, g, mask, a);
      }
      assertClose("params " + at, p, backend.downloadFloats(params), 1e-6, 1e-5);
      assertClose("m " + at, mRef, backend.downloadFloats(m), 1e-7, 1e-5);
      assertClose("v " + at, vRef, backend.downloadFloats(v), 1e-9, 1e-5);
    }
  }

  @Test
  void maskedElementsAreNotDecayed() {
    int n = 4;
    Tensor params = f32(backend, arena, new float[] {1, 1, -2, -2}, n);
    Tensor decayMask = arena.allocate(DType.U8, n);
    backend.upload(decayMask, new byte[] {1, 0, 1, 0});
    backend.adamwStep(params, null, arena.zeros(DType.F32, n), arena.zeros(DType.F32, n), arena.zeros(DType.F32, n),
        decayMask, new AdamWParams(0.1f, 0.9f, 0.999f, 1e-8f, 0.5f, 1, 1f));
    // zero gradients: only the decay acts, p *= 1 - 0.1 * 0.5
    assertArrayEquals(new float[] {0.95f, 1f, -1.9f, -2f}, backend.downloadFloats(params));
  }

  @Test
  void paramsWorkIsTheUpdateRoundedToItsType() {
    int n = 4099;
    float[] g = randomFloats(3, n, 1);
    for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16}) {
      arena.reset();
      Tensor params = f32(backend, arena, randomFloats(2, n, 1), n);
      Tensor work = arena.allocate(dt, n);
      backend.adamwStep(params, work, arena.zeros(DType.F32, n), arena.zeros(DType.F32, n), f32(backend, arena, g, n),
          null, new AdamWParams(1e-3f, 0.9f, 0.95f, 1e-8f, 0.01f, 1, 1f));
      float[] expected = roundTo(dt, backend.downloadFloats(params));
      assertArrayEquals(expected, backend.downloadFloats(work), "params_work " + dt);
    }
  }

  /** Vector body and scalar remainder must agree bit for bit, wherever the thread chunks start. */
  @Test
  void resultDoesNotDependOnThreadCount() {
    int n = 100_003;
    float[] params0 = randomFloats(7, n, 1);
    float[] g = randomFloats(8, n, 3);
    byte[] mask = randomMask(9, n);
    float[][] after = new float[2][];
    int threads = CpuBackend.threads();
    try {
      for (int run = 0; run < 2; run++) {
        CpuBackend.setThreads(run == 0 ? 1 : 3);
        arena.reset();
        Tensor params = f32(backend, arena, params0, n);
        Tensor decayMask = arena.allocate(DType.U8, n);
        backend.upload(decayMask, mask);
        backend.adamwStep(params, null, arena.zeros(DType.F32, n), arena.zeros(DType.F32, n), f32(backend, arena, g, n),
            decayMask, new AdamWParams(1e-3f, 0.9f, 0.999f, 1e-8f, 0.1f, 3, 0.5f));
        after[run] = backend.downloadFloats(params);
      }
    } finally {
      CpuBackend.setThreads(threads);
    }
    assertArrayEquals(after[0], after[1], "AdamW result depends on the thread count");
  }

  @Test
  void badArgumentsGiveClearExceptions() {
    Tensor params = arena.allocate(DType.F32, 10);
    Tensor shortM = arena.allocate(DType.F32, 9);
    AdamWParams ok = new AdamWParams(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1, 1f);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> backend.adamwStep(params, null, shortM, params, params, null, ok));
    assertTrue(e.getMessage().startsWith("adamwStep: m must have 10 F32 elements"), e.getMessage());
    Tensor work = arena.allocate(DType.BF16, 11);
    e = assertThrows(IllegalArgumentException.class, () -> backend.adamwStep(params, work, params, params, params,
        null, ok));
    assertTrue(e.getMessage().startsWith("adamwStep: paramsWork"), e.getMessage());
    NativeException ne = assertThrows(NativeException.class, () -> backend.adamwStep(params, null, params, params,
        params, null, new AdamWParams(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 0, 1f)));
    assertEquals("lmt_adamw_step: step must be > 0 (got 0)", ne.getMessage());
  }
}
