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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * LayerNorm forward and backward on the CPU backend against a double-precision Java reference
 * computed from the same (type-rounded) inputs, and the backward against finite differences of
 * that reference. Tolerances: statistics and parameter gradients are fp32 for every storage type
 * (atol 1e-5, rtol 1e-5); out and dx are stored in the activation type: F32 atol/rtol 1e-5, BF16
 * atol 1e-2 rtol 2^-7, F16 atol 1e-3 rtol 2^-10 (one rounding of the output, plus fp32 arithmetic).
 */
class LayerNormKernelTest extends CpuBackendTest {
  private static final float EPS = 1e-5f;
  @AfterEach
  void releaseTensors() {
    arena.reset();
  }

  static double activationAtol(DType dt) {
    return switch (dt) {
      case BF16 -> 1e-2;
      case F16 -> 1e-3;
      default -> 1e-5;
    };
  }

  static double activationRtol(DType dt) {
    return switch (dt) {
      case BF16 -> 1.0 / 128;
      case F16 -> 1.0 / 1024;
      default -> 1e-5;
    };
  }

  /** Reference forward: {out (n*c), mean (n), rstd (n)} in double, biased variance. */
  static double[][] forwardRef(float[] x, float[] w, float[] b, int n, int c, double eps) {
    double[] out = new double[n * c];
    double[] mean = new double[n];
    double[] rstd = new double[n];
    for (int i = 0; i < n; i++) {
      double mu = 0;
      for (int j = 0; j < c; j++) {
        mu += x[i * c + j];
      }
      mu /= c;
      double var = 0;
      for (int j = 0; j < c; j++) {
        double d = x[i * c + j] - mu;
        var += d * d;
      }
      var /= c;
      double r = 1 / Math.sqrt(var + eps);
      for (int j = 0; j < c; j++) {
        out[i * c + j] = (x[i * c + j] - mu) * r * w[j] + b[j];
      }
      mean[i] = mu;
      rstd[i] = r;
    }
    return new double[][] {out, mean, rstd};
  }

  /** Reference backward: {dx (n*c), dweight (c), dbias (c)} for upstream gradient dout, in double. */
  static double[][] backwardRef(float[] dout, float[] x, float[] w, int n, int c, double eps) {
    double[][] fwd = forwardRef(x, w, new float[c], n, c, eps);
    double[] dx = new double[n * c];
    double[] dw = new double[c];
    double[] db = new double[c];
    for (int i = 0; i < n; i++) {
      double mu = fwd[1][i];
      double r = fwd[2][i];
      double gMean = 0;
      double gxMean = 0;
      for (int j = 0; j < c; j++) {
        double xhat = (x[i * c + j] - mu) * r;
        double g = dout[i * c + j] * (double) w[j];
        gMean += g;
        gxMean += g * xhat;
        dw[j] += dout[i * c + j] * xhat;
        db[j] += dout[i * c + j];
      }
      gMean /= c;
      gxMean /= c;
      for (int j = 0; j < c; j++) {
        double xhat = (x[i * c + j] - mu) * r;
        dx[i * c + j] = r * (dout[i * c + j] * (double) w[j] - gMean - xhat * gxMean);
      }
    }
    return new double[][] {dx, dw, db};
  }

  static double[] plus(float[] base, double[] delta) {
    double[] sum = new double[base.length];
    for (int i = 0; i < sum.length; i++) {
      sum[i] = base[i] + delta[i];
    }
    return sum;
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
  void forwardAndBackwardMatchReference(DType dt) {
    for (int n : KernelTestSupport.ODD_AND_EVEN_SIZES) {
      for (int c : KernelTestSupport.ODD_AND_EVEN_SIZES) {
        arena.reset();
        String at = dt + " N=" + n + " C=" + c;
        long seed = 1000L * n + c;
        // an offset mean per row checks that the variance is taken around the mean
        float[] x = randomFloats(seed, n * c, 2);
        for (int i = 0; i < n * c; i++) {
          x[i] += (i / c) % 5 - 2;
        }
        x = roundTo(dt, x);
        float[] w = roundTo(dt, randomFloats(seed + 1, c, 1.5));
        float[] b = roundTo(dt, randomFloats(seed + 2, c, 0.5));
        float[] dout = roundTo(dt, randomFloats(seed + 3, n * c, 1));
        float[] dw0 = randomFloats(seed + 4, c, 1);
        float[] db0 = randomFloats(seed + 5, c, 1);
        Tensor tx = floats(backend, arena, dt, x, n, c);
        Tensor tw = floats(backend, arena, dt, w, c);
        Tensor tb = floats(backend, arena, dt, b, c);
        Tensor tdout = floats(backend, arena, dt, dout, n, c);
        Tensor out = arena.allocate(dt, n, c);
        Tensor mean = arena.allocate(DType.F32, n);
        Tensor rstd = arena.allocate(DType.F32, n);
        Tensor dx = arena.allocate(dt, n, c);
        Tensor dw = f32(backend, arena, dw0, c);
        Tensor db = f32(backend, arena, db0, c);

        backend.layerNormForward(out, mean, rstd, tx, tw, tb, EPS);
        backend.layerNormBackward(dx, dw, db, tdout, tx, tw, mean, rstd);

        double[][] fwd = forwardRef(x, w, b, n, c, EPS);
        double[][] bwd = backwardRef(dout, x, w, n, c, EPS);
        assertClose("out " + at, fwd[0], backend.downloadFloats(out), activationAtol(dt), activationRtol(dt));
        assertClose("mean " + at, fwd[1], backend.downloadFloats(mean), 1e-5, 1e-5);
        assertClose("rstd " + at, fwd[2], backend.downloadFloats(rstd), 1e-5, 1e-5);
        assertClose("dx " + at, bwd[0], backend.downloadFloats(dx), activationAtol(dt), activationRtol(dt));
        assertClose("dweight += " + at, plus(dw0, bwd[1]), backend.downloadFloats(dw), 1e-5, 1e-5);
        assertClose("dbias += " + at, plus(db0, bwd[2]), backend.downloadFloats(db), 1e-5, 1e-5);
      }
    }
  }

  @Test
  void backwardMatchesFiniteDifferencesOfTheReference() {
    int n = 3;
    int c = 5;
    float[] x = randomFloats(7, n * c, 2);
    float[] w = randomFloats(8, c, 1.5);
    float[] b = randomFloats(9, c, 0.5);
    float[] dout = randomFloats(10, n * c, 1);
    // loss = sum(out * dout), so d loss / d out = dout
    java.util.function.DoubleSupplier loss = () -> {
      double[] out = forwardRef(x, w, b, n, c, EPS)[0];
      double s = 0;
      for (int i = 0; i < out.length; i++) {
        s += out[i] * dout[i];
      }
      return s;
    };
    Tensor tx = f32(backend, arena, x, n, c);
    Tensor tw = f32(backend, arena, w, c);
    Tensor tb = f32(backend, arena, b, c);
    Tensor out = arena.allocate(DType.F32, n, c);
    Tensor mean = arena.allocate(DType.F32, n);
    Tensor rstd = arena.allocate(DType.F32, n);
    Tensor dx = arena.allocate(DType.F32, n, c);
    Tensor dw = arena.zeros(DType.F32, c);
    Tensor db = arena.zeros(DType.F32, c);
    backend.layerNormForward(out, mean, rstd, tx, tw, tb, EPS);
    backend.layerNormBackward(dx, dw, db, f32(backend, arena, dout, n, c), tx, tw, mean, rstd);

    double h = 1e-3;
    double[] fdx = new double[n * c];
    for (int i = 0; i < fdx.length; i++) {
      fdx[i] = finiteDifference(x, i, h, loss);
    }
    double[] fdw = new double[c];
    double[] fdb = new double[c];
    for (int j = 0; j < c; j++) {
      fdw[j] = finiteDifference(w, j, h, loss);
      fdb[j] = finiteDifference(b, j, h, loss);
    }
    assertClose("dx vs finite differences", fdx, backend.downloadFloats(dx), 1e-3, 1e-3);
    assertClose("dweight vs finite differences", fdw, backend.downloadFloats(dw), 1e-3, 1e-3);
    assertClose("dbias vs finite differences", fdb, backend.downloadFloats(db), 1e-3, 1e-3);
  }

  @Test
  void backwardIsBitIdenticalForAnyThreadCount() {
    int n = 1001;
    int c = 97;
    Tensor x = f32(backend, arena, randomFloats(21, n * c, 2), n, c);
    Tensor w = f32(backend, arena, randomFloats(22, c, 1), c);
    Tensor b = f32(backend, arena, randomFloats(23, c, 1), c);
    Tensor dout = f32(backend, arena, randomFloats(24, n * c, 1), n, c);
    Tensor out = arena.allocate(DType.F32, n, c);
    Tensor mean = arena.allocate(DType.F32, n);
    Tensor rstd = arena.allocate(DType.F32, n);
    backend.layerNormForward(out, mean, rstd, x, w, b, EPS);
    float[][] one = backwardWithThreads(1, dout, x, w, mean, rstd);
    float[][] three = backwardWithThreads(3, dout, x, w, mean, rstd);
    assertArrayEquals(one[0], three[0], "dx depends on the thread count");
    assertArrayEquals(one[1], three[1], "dweight depends on the thread count");
    assertArrayEquals(one[2], three[2], "dbias depends on the thread count");
  }

  private float[][] backwardWithThreads(int threads, Tensor dout, Tensor x, Tensor w, Tensor mean, Tensor rstd) {
    int saved = CpuBackend.threads();
    try {
      CpuBackend.setThreads(threads);
      Tensor dx = arena.allocate(DType.F32, x.shape());
      Tensor dw = arena.zeros(DType.F32, w.numel());
      Tensor db = arena.zeros(DType.F32, w.numel());
      backend.layerNormBackward(dx, dw, db, dout, x, w, mean, rstd);
      return new float[][] {backend.downloadFloats(dx), backend.downloadFloats(dw), backend.downloadFloats(db)};
    } finally {
      CpuBackend.setThreads(saved);
    }
  }

  @Test
  void badArgumentsGiveClearExceptions() {
    Tensor x = arena.allocate(DType.F32, 4, 8);
    Tensor out = arena.allocate(DType.F32, 4, 8);
    Tensor mean = arena.allocate(DType.F32, 4);
    Tensor rstd = arena.allocate(DType.F32, 4);
    Tensor w = arena.allocate(DType.F32, 8);
    Tensor shortBias = arena.allocate(DType.F32, 7);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> backend.layerNormForward(out, mean, rstd, x, w, shortBias, EPS));
    assertTrue(e.getMessage().startsWith("layerNormForward: bias must have 8 F32 elements"), e.getMessage());
    Tensor bf16Grad = arena.allocate(DType.BF16, 8);
    e = assertThrows(IllegalArgumentException.class,
        () -> backend.layerNormBackward(x, bf16Grad, w, out, x, w, mean, rstd));
    assertTrue(e.getMessage().startsWith("layerNormBackward: dweight must have 8 F32 elements"), e.getMessage());
    NativeException ne = assertThrows(NativeException.class,
        () -> backend.layerNormForward(out, mean, rstd, x, w, w, 0f));
    assertEquals("lmt_layernorm_forward: eps must be a finite value > 0 (got 0)", ne.getMessage());
  }
}
