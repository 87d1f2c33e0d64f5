package ai.lmtrain.tensor;

import static ai.lmtrain.tensor.KernelTestSupport.assertClose;
import static ai.lmtrain.tensor.KernelTestSupport.f32;
import static ai.lmtrain.tensor.KernelTestSupport.floats;
import static ai.lmtrain.tensor.KernelTestSupport.randomFloats;
import static ai.lmtrain.tensor.KernelTestSupport.roundTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.nativebridge.NativeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Residual add, scale, casts, sum of squares, non-finite count, GELU and dropout on the CPU
 * backend against double-precision Java references. Tolerances: F32 1e-6 relative (these are
 * single-rounding ops), BF16 2^-8 and F16 2^-11 relative (one rounding of the output).
 */
class ElementwiseKernelsTest extends CpuBackendTest {
  static double outputTolerance(DType dt) {
    return switch (dt) {
      case BF16 -> 1.0 / 256;
      case F16 -> 1.0 / 2048;
      default -> 1e-6;
    };
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
  void addAndScaleMatchReference(DType dt) {
    for (int n : KernelTestSupport.ODD_AND_EVEN_SIZES) {
      float[] a = roundTo(dt, randomFloats(n, n, 3));
      float[] b = roundTo(dt, randomFloats(n + 7, n, 3));
      Tensor ta = floats(backend, arena, dt, a, n);
      Tensor tb = floats(backend, arena, dt, b, n);
      Tensor out = arena.allocate(dt, n);
      backend.add(out, ta, tb);
      double[] sum = new double[n];
      double[] scaled = new double[n];
      for (int i = 0; i < n; i++) {
        sum[i] = (double) a[i] + b[i];
        scaled[i] = a[i] * -0.375;
      }
      assertClose("add n=" + n, sum, backend.downloadFloats(out), 1e-30, outputTolerance(dt));
      backend.scale(ta, -0.375f);
      assertClose("scale n=" + n, scaled, backend.downloadFloats(ta), 1e-30, outputTolerance(dt));
    }
  }

  @Test
  void castsRoundToNearestEvenAndKeepSpecials() {
    float[] x = {0f, -0f, 1f, 1.00390625f, 1.01171875f, 65504f, 65520f, 1e-8f, 6.1e-5f, 3.0e-8f, Float.NaN,
        Float.POSITIVE_INFINITY, -3.14159f, 1e38f};
    Tensor src = f32(backend, arena, x, x.length);
    for (DType dt : new DType[] {DType.BF16, DType.F16}) {
      Tensor half = arena.allocate(dt, x.length);
      Tensor back = arena.allocate(DType.F32, x.length);
      backend.cast(half, src);
      backend.cast(back, half);
      float[] got = backend.downloadFloats(back);
      float[] expected = roundTo(dt, x); // the Java conversion is an independent implementation
      for (int i = 0; i < x.length; i++) {
        assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(got[i]),
            dt + " cast of " + x[i] + ": got " + got[i] + ", expected " + expected[i]);
      }
    }
    float[] back = roundTo(DType.F16, new float[] {65520f, 1.00048828125f, 1.00146484375f});
    assertEquals(Float.POSITIVE_INFINITY, back[0]);
    assertEquals(1.0f, back[1]); // halfway, rounds to even
    assertEquals(1.001953125f, back[2]); // halfway, rounds to even (up)
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 31, 32, 33, 127, 4096, 4097, 100_003})
  void sumSquaresIsDeterministicAcrossThreadCounts(int n) {
    float[] x = randomFloats(n, n, 2);
    Tensor t = f32(backend, arena, x, n);
    Tensor out = arena.allocate(DType.F32, 1);
    double expected = 0;
    for (float v : x) {
      expected += (double) v * v;
    }
    int threads = CpuBackend.threads();
    try {
      CpuBackend.setThreads(1);
      backend.sumSquares(out, t);
      float one = backend.downloadFloats(out)[0];
      CpuBackend.setThreads(3);
      backend.sumSquares(out, t);
      float three = backend.downloadFloats(out)[0];
      assertEquals(Float.floatToIntBits(one), Float.floatToIntBits(three), "sum of squares depends on thread count");
      assertClose("sumSquares n=" + n, new double[] {expected}, new float[] {one}, 0, 1e-6);
    } finally {
      CpuBackend.setThreads(threads);
    }
  }

  @Test
  void countNonfiniteCountsNanAndInfinities() {
    float[] x = randomFloats(5, 10_000, 1);
    x[0] = Float.NaN;
    x[4095] = Float.POSITIVE_INFINITY;
    x[9999] = Float.NEGATIVE_INFINITY;
    Tensor t = f32(backend, arena, x, x.length);
    Tensor out = arena.allocate(DType.I64, 1);
    backend.countNonfinite(out, t);
    byte[] raw = backend.downloadBytes(out);
    assertEquals(3L, java.nio.ByteBuffer.wrap(raw).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong());
  }

  static double geluRef(double x, GeluKind kind) {
    if (kind == GeluKind.EXACT) {
      return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
    }
    return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
  }

  /** erf to ~1e-15 by its Maclaurin series (|x| < 3) or the continued fraction of erfc. */
  static double erf(double x) {
    double ax = Math.abs(x);
    double r;
    if (ax < 3) {
      double term = ax;
      double sum = ax;
      for (int k = 1; k < 200; k++) {
        term *= -ax * ax / k;
        double add = term / (2 * k + 1);
        sum += add;
        if (Math.abs(add) < 1e-17) {
          break;
        }
      }
      r = 2 / Math.sqrt(Math.PI) * sum;
    } else {
      double f = 0;
      for (int k = 60; k >= 1; k--) {
        f = k / 2.0 / (ax + f);
      }
      r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
    }
    return x < 0 ? -r : r;
  }

  /**
   * out = gelu(x) within atol 1e-6, rtol 1e-5 of the double reference; dx = dout gelu'(x) within
   * atol 1e-5, rtol 1e-4 of central finite differences (h = 1e-4) of that reference.
   */
  static void assertGeluMatchesReference(String what, float[] x, float[] dout, GeluKind kind, float[] out,
      float[] dx) {
    double[] ref = new double[x.length];
    double[] dref = new double[x.length];
    double h = 1e-4;
    for (int i = 0; i < x.length; i++) {
      ref[i] = geluRef(x[i], kind);
      dref[i] = dout[i] * (geluRef(x[i] + h, kind) - geluRef(x[i] - h, kind)) / (2 * h);
    }
    assertClose(what + " forward", ref, out, 1e-6, 1e-5);
    assertClose(what + " backward vs finite differences", dref, dx, 1e-5, 1e-4);
  }

  @ParameterizedTest
  @EnumSource(GeluKind.class)
  void geluForwardAndBackwardMatchReferenceAndFiniteDifferences(GeluKind kind) {
    for (int n : KernelTestSupport.ODD_AND_EVEN_SIZES) {
      float[] x = randomFloats(11 * n, n, 4);
      float[] dout = randomFloats(13 * n, n, 1);
      Tensor tx = f32(backend, arena, x, n);
      Tensor tg = f32(backend, arena, dout, n);
      Tensor out = arena.allocate(DType.F32, n);
      Tensor dx = arena.allocate(DType.F32, n);
      backend.gelu(out, tx, kind);
      backend.geluBackward(dx, tx, tg, kind);
      assertGeluMatchesReference(kind + " n=" + n, x, dout, kind, backend.downloadFloats(out),
          backend.downloadFloats(dx));
    }
  }

  /** The vector code handles tails zero-padded: chunk boundaries (thread count) must not change a bit. */
  @ParameterizedTest
  @EnumSource(GeluKind.class)
  void geluIsThreadCountIndependentAndAccurateOnWideInputs(GeluKind kind) {
    int n = 100_003;
    float[] x = randomFloats(5, n, 12); // both tails: erf clamps, exp underflows
    float[] dout = randomFloats(6, n, 1);
    Tensor tx = f32(backend, arena, x, n);
    Tensor tg = f32(backend, arena, dout, n);
    float[][] out = new float[2][];
    float[][] dx = new float[2][];
    int threads = CpuBackend.threads();
    try {
      for (int run = 0; run < 2; run++) {
        CpuBackend.setThreads(run == 0 ? 1 : 3);
        Tensor o = arena.allocate(DType.F32, n);
        Tensor d = arena.allocate(DType.F32, n);
        backend.gelu(o, tx, kind);
        backend.geluBackward(d, tx, tg, kind);
        out[run] = backend.downloadFloats(o);
        dx[run] = backend.downloadFloats(d);
      }
    } finally {
      CpuBackend.setThreads(threads);
    }
    assertArrayEquals(out[0], out[1], kind + " forward depends on the thread count");
    assertArrayEquals(dx[0], dx[1], kind + " backward depends on the thread count");
    assertGeluMatchesReference(kind.toString(), x, dout, kind, out[0], dx[0]);
  }

  @ParameterizedTest
  @ValueSource(floats = {0.1f, 0.5f})
  void dropoutKeepsTheRightShareAndIsThreadCountIndependent(float p) {
    int n = 200_003;
    float[] x = randomFloats(1, n, 1);
    Tensor tx = f32(backend, arena, x, n);
    Tensor a = arena.allocate(DType.F32, n);
    Tensor b = arena.allocate(DType.F32, n);
    int threads = CpuBackend.threads();
    try {
      CpuBackend.setThreads(1);
      backend.dropoutForward(a, tx, p, 42, 1000);
      CpuBackend.setThreads(4);
      backend.dropoutForward(b, tx, p, 42, 1000);
    } finally {
      CpuBackend.setThreads(threads);
    }
    float[] fa = backend.downloadFloats(a);
    assertArrayEquals(fa, backend.downloadFloats(b), "dropout mask depends on thread count");
    int kept = 0;
    for (int i = 0; i < n; i++) {
      if (fa[i] != 0) {
        kept++;
        assertEquals(x[i] / (1 - p), fa[i], 1e-6f);
      }
    }
    double share = kept / (double) n;
    double sigma = Math.sqrt(p * (1 - p) / n);
    assertTrue(Math.abs(share - (1 - p)) < 6 * sigma, "kept share " + share + " for p=" + p);
    // the backward applies the same mask to the gradient
    Tensor dx = arena.allocate(DType.F32, n);
    Tensor ones = f32(backend, arena, filled(n, 1f), n);
    backend.dropoutBackward(dx, ones, p, 42, 1000);
    float[] g = backend.downloadFloats(dx);
    for (int i = 0; i < n; i++) {
      assertEquals(fa[i] != 0 ? 1 / (1 - p) : 0f, g[i], 1e-6f);
    }
    // another offset gives another mask
    backend.dropoutForward(b, tx, p, 42, 1000 + n);
    assertTrue(!java.util.Arrays.equals(fa, backend.downloadFloats(b)));
  }

  static float[] filled(int n, float v) {
    float[] x = new float[n];
    java.util.Arrays.fill(x, v);
    return x;
  }

  @Test
  void badArgumentsGiveClearExceptions() {
    Tensor a = arena.allocate(DType.F32, 4);
    Tensor b = arena.allocate(DType.F32, 5);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend.add(a, a, b));
    assertTrue(e.getMessage().startsWith("add: b must match"), e.getMessage());
    NullPointerException npe = assertThrows(NullPointerException.class, () -> backend.gelu(a, null, GeluKind.EXACT));
    assertEquals("gelu: input is null", npe.getMessage());
    assertThrows(IllegalArgumentException.class, () -> arena.allocate(DType.F32, 3, -1));
    NativeException ne = assertThrows(NativeException.class, () -> backend.dropoutForward(a, a, 1.0f, 1, 0));
    assertEquals("lmt_dropout_forward: p must be in [0, 1) (got 1)", ne.getMessage());
    NativeException neg = assertThrows(NativeException.class,
        () -> ai.lmtrain.nativebridge.NativeCalls.check(
            ai.lmtrain.nativebridge.LmtNative.lmt_gelu_forward(0, 0, 0, -3, 0, 0)));
    assertEquals("lmt_gelu_forward: ctx is NULL (expected a context from lmt_ctx_create)", neg.getMessage());
  }
}
