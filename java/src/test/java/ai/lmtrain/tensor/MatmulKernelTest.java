package ai.lmtrain.tensor;

import static ai.lmtrain.tensor.KernelTestSupport.assertClose;
import static ai.lmtrain.tensor.KernelTestSupport.f32;
import static ai.lmtrain.tensor.KernelTestSupport.finiteDifference;
import static ai.lmtrain.tensor.KernelTestSupport.floats;
import static ai.lmtrain.tensor.KernelTestSupport.randomFloats;
import static ai.lmtrain.tensor.KernelTestSupport.roundTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.nativebridge.NativeException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Matmul (C = alpha op(A) op(B) + beta C + bias) and the bias gradient on the CPU backend against
 * double-precision Java references, on inputs already rounded to their storage type. Tolerances:
 * an F32 result gets atol 1e-5 sqrt(K) (fp32 accumulation of K products of values in [-1, 1]) and
 * rtol 1e-5; a BF16/F16 result adds its one output rounding, 2^-8 / 2^-11, to both.
 */
class MatmulKernelTest extends CpuBackendTest {

  /** One matmul problem: sizes, layouts, scalars and the host data of A, B, the old C and bias. */
  record Problem(int m, int n, int k, boolean transA, boolean transB, float alpha, float beta, DType abType,
      DType cType, boolean withBias, long seed) {

    float[] a() {
      return roundTo(abType, randomFloats(seed, m * k, 1));
    }

    float[] b() {
      return roundTo(abType, randomFloats(seed + 1, k * n, 1));
    }

    float[] oldC() {
      return roundTo(cType, randomFloats(seed + 2, m * n, 1));
    }

    float[] bias() {
      return roundTo(cType, randomFloats(seed + 3, n, 1));
    }

    long[] aShape() {
      return transA ? new long[] {k, m} : new long[] {m, k};
    }

    long[] bShape() {
      return transB ? new long[] {n, k} : new long[] {k, n};
    }

    /** alpha op(A) op(B) + beta oldC + bias in double; beta = 0 ignores oldC entirely. */
    double[] reference() {
      float[] a = a();
      float[] b = b();
      float[] c = oldC();
      float[] bias = bias();
      double[] out = new double[m * n];
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          double sum = 0;
          for (int p = 0; p < k; p++) {
            double av = transA ? a[p * m + i] : a[i * k + p];
            double bv = transB ? b[j * k + p] : b[p * n + j];
            sum += av * bv;
          }
          double v = alpha * sum;
          if (beta != 0) {
            v += (double) beta * c[i * n + j];
          }
          if (withBias) {
            v += bias[j];
          }
          out[i * n + j] = v;
        }
      }
      return out;
    }

    /** Runs the kernel on C filled with oldC, or with NaN when beta = 0 (which must never be read). */
    float[] run() {
      Tensor ta = floats(backend, arena, abType, a(), aShape());
      Tensor tb = floats(backend, arena, abType, b(), bShape());
      float[] initial = oldC();
      if (beta == 0) {
        Arrays.fill(initial, Float.NaN);
      }
      Tensor tc = floats(backend, arena, cType, initial, m, n);
      Tensor tbias = withBias ? floats(backend, arena, cType, bias(), n) : null;
      backend.matmul(tc, ta, tb, tbias, transA, transB, alpha, beta);
      return backend.downloadFloats(tc);
    }

    void check() {
      double rounding = switch (cType) {
        case BF16 -> 1.0 / 256;
        case F16 -> 1.0 / 2048;
        default -> 0;
      };
      double atol = 1e-5 * Math.sqrt(k) * Math.max(1, Math.abs(alpha)) + rounding;
      assertClose(toString(), reference(), run(), atol, 1e-5 + rounding);
    }
  }

  @Test
  void allLayoutsAndOddAndEvenSizesMatchReference() {
    int[] sizes = KernelTestSupport.ODD_AND_EVEN_SIZES;
    long seed = 1;
    for (int mask = 0; mask < 4; mask++) {
      for (int m : sizes) {
        for (int n : sizes) {
          for (int k : sizes) {
            new Problem(m, n, k, (mask & 1) != 0, (mask & 2) != 0, 1f, 0f, DType.F32, DType.F32, false, seed++).check();
          }
        }
      }
    }
  }

  /** Non-square sizes crossing the K blocks (256), the C column tiles (512) and the B panels (4096). */
  @ParameterizedTest
  @CsvSource({"65, 129, 257", "97, 1100, 600", "7, 4500, 300", "300, 17, 513"})
  void largerNonSquareProblemsMatchReference(int m, int n, int k) {
    for (int mask = 0; mask < 4; mask++) {
      new Problem(m, n, k, (mask & 1) != 0, (mask & 2) != 0, 1f, 0f, DType.F32, DType.F32, false, m + mask).check();
    }
  }

  @ParameterizedTest
  @CsvSource({"0.5, -1.25", "1, 1", "-2, 0", "0, 0.75"})
  void alphaBetaAndBiasMatchReference(float alpha, float beta) {
    for (boolean bias : new boolean[] {false, true}) {
      new Problem(33, 70, 300, false, true, alpha, beta, DType.F32, DType.F32, bias, 7).check();
      new Problem(127, 31, 32, true, false, alpha, beta, DType.F32, DType.F32, bias, 8).check();
    }
  }

  @Test
  void betaZeroNeverReadsNanFromC() {
    float[] c = new Problem(31, 33, 65, false, false, 1f, 0f, DType.F32, DType.F32, true, 9).run();
    for (float v : c) {
      assertTrue(Float.isFinite(v), "beta = 0 read the NaN-filled C");
    }
    float[] half = new Problem(31, 33, 65, false, false, 1f, 0f, DType.BF16, DType.BF16, false, 9).run();
    for (float v : half) {
      assertTrue(Float.isFinite(v), "beta = 0 read the NaN-filled BF16 C");
    }
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"BF16", "F16"})
  void halfPrecisionInputsWithF32OrSameTypeOutput(DType dt) {
    for (DType cType : new DType[] {DType.F32, dt}) {
      for (int mask = 0; mask < 4; mask++) {
        boolean transA = (mask & 1) != 0;
        boolean transB = (mask & 2) != 0;
        new Problem(33, 127, 31, transA, transB, 1f, 0f, dt, cType, true, mask).check();
        new Problem(65, 40, 270, transA, transB, 0.5f, 1f, dt, cType, true, 10 + mask).check();
      }
    }
  }

  @Test
  void resultDoesNotDependOnThreadCount() {
    Problem p = new Problem(200, 700, 530, false, true, 1f, 0.5f, DType.F32, DType.F32, true, 11);
    int threads = CpuBackend.threads();
    try {
      CpuBackend.setThreads(1);
      float[] one = p.run();
      CpuBackend.setThreads(3);
      float[] three = p.run();
      assertArrayEquals(one, three, "matmul depends on the thread count");
    } finally {
      CpuBackend.setThreads(threads);
    }
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
  void biasGradAccumulatesColumnSums(DType dt) {
    for (int m : KernelTestSupport.ODD_AND_EVEN_SIZES) {
      for (int n : new int[] {1, 33, 300}) {
        float[] dy = roundTo(dt, randomFloats(m * 1000L + n, m * n, 1));
        float[] initial = randomFloats(n, n, 1);
        Tensor tdy = floats(backend, arena, dt, dy, m, n);
        Tensor dbias = f32(backend, arena, initial, n);
        backend.biasGrad(dbias, tdy);
        double[] expected = new double[n];
        for (int j = 0; j < n; j++) {
          expected[j] = initial[j];
          for (int i = 0; i < m; i++) {
            expected[j] += dy[i * n + j];
          }
        }
        assertClose(dt + " biasGrad " + m + "x" + n, expected, backend.downloadFloats(dbias), 1e-6, 1e-6);
      }
    }
  }

  /**
   * The backward of a Linear layer y = x W^T + b, written with the ops themselves (dx = dy W,
   * dW += dy^T x, db += column sums of dy), against central finite differences of
   * loss = sum(y * g) where each loss evaluation runs the forward matmul.
   */
  @Test
  void linearLayerBackwardMatchesFiniteDifferences() {
    int rows = 3;
    int in = 5;
    int out = 4;
    float[] x = randomFloats(21, rows * in, 1);
    float[] w = randomFloats(22, out * in, 1);
    float[] b = randomFloats(23, out, 1);
    float[] g = randomFloats(24, rows * out, 1);
    Tensor tg = f32(backend, arena, g, rows, out);

    Tensor dx = arena.allocate(DType.F32, rows, in);
    backend.matmul(dx, tg, f32(backend, arena, w, out, in), null, false, false, 1f, 0f);
    Tensor dw = f32(backend, arena, new float[out * in], out, in);
    backend.matmul(dw, tg, f32(backend, arena, x, rows, in), null, true, false, 1f, 1f);
    Tensor db = f32(backend, arena, new float[out], out);
    backend.biasGrad(db, tg);

    java.util.function.DoubleSupplier loss = () -> {
      Tensor y = arena.allocate(DType.F32, rows, out);
      backend.matmul(y, f32(backend, arena, x, rows, in), f32(backend, arena, w, out, in),
          f32(backend, arena, b, out), false, true, 1f, 0f);
      float[] yv = backend.downloadFloats(y);
      double sum = 0;
      for (int i = 0; i < yv.length; i++) {
        sum += (double) yv[i] * g[i];
      }
      return sum;
    };
    double h = 1e-2; // the loss is linear in each input, so only fp32 rounding limits the accuracy
    assertClose("dx", numericGradient(x, h, loss), backend.downloadFloats(dx), 1e-3, 1e-3);
    assertClose("dW", numericGradient(w, h, loss), backend.downloadFloats(dw), 1e-3, 1e-3);
    assertClose("db", numericGradient(b, h, loss), backend.downloadFloats(db), 1e-3, 1e-3);
  }

  static double[] numericGradient(float[] x, double h, java.util.function.DoubleSupplier loss) {
    double[] grad = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      grad[i] = finiteDifference(x, i, h, loss);
    }
    return grad;
  }

  @Test
  void badArgumentsGiveClearExceptions() {
    Tensor a = arena.allocate(DType.F32, 3, 4);
    Tensor b = arena.allocate(DType.F32, 5, 6);
    Tensor c = arena.allocate(DType.F32, 3, 6);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> backend.matmul(c, a, b, null, false, false, 1f, 0f));
    assertTrue(e.getMessage().startsWith("matmul: inner dimensions differ"), e.getMessage());
    NullPointerException npe = assertThrows(NullPointerException.class,
        () -> backend.matmul(c, a, null, null, false, false, 1f, 0f));
    assertEquals("matmul: b is null", npe.getMessage());
    Tensor bf = arena.allocate(DType.BF16, 4, 6);
    IllegalArgumentException types = assertThrows(IllegalArgumentException.class,
        () -> backend.matmul(c, a, bf, null, false, false, 1f, 0f));
    assertTrue(types.getMessage().startsWith("matmul: a and b must have the same type"), types.getMessage());
    Tensor ab16 = arena.allocate(DType.BF16, 3, 4);
    Tensor b16 = arena.allocate(DType.BF16, 4, 6);
    Tensor cf16 = arena.allocate(DType.F16, 3, 6);
    NativeException ne = assertThrows(NativeException.class,
        () -> backend.matmul(cf16, ab16, b16, null, false, false, 1f, 0f));
    assertEquals("lmt_matmul: c_dt must equal ab_dt or be F32 (got F16 with ab_dt BF16)", ne.getMessage());
    Tensor dbias = arena.allocate(DType.F32, 5);
    IllegalArgumentException bg = assertThrows(IllegalArgumentException.class, () -> backend.biasGrad(dbias, c));
    assertTrue(bg.getMessage().startsWith("biasGrad: dbias"), bg.getMessage());
  }
}
