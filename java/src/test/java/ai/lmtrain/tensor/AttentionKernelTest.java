package ai.lmtrain.tensor;

import static ai.lmtrain.tensor.KernelTestSupport.assertClose;
import static ai.lmtrain.tensor.KernelTestSupport.f32;
import static ai.lmtrain.tensor.KernelTestSupport.finiteDifference;
import static ai.lmtrain.tensor.KernelTestSupport.floats;
import static ai.lmtrain.tensor.KernelTestSupport.i32;
import static ai.lmtrain.tensor.KernelTestSupport.randomFloats;
import static ai.lmtrain.tensor.KernelTestSupport.roundTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.nativebridge.NativeException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Multi-head attention forward (out, lse) and backward (dqkv) on the CPU backend against a
 * double-precision reference that materialises the scores with Hugging Face's masks (the causal
 * mask replaces a score by float32-min, a padded key adds float32-min), and against finite
 * differences. Dropout masks for the reference come from the dropout op with the same
 * (seed, offset) stream. Tolerances: F32 out/lse 1e-5 abs + 1e-4 rel, dqkv 1e-4 abs + 1e-3 rel;
 * half types (inputs rounded, fp32 arithmetic, rounded outputs) BF16 2e-2 abs, F16 5e-3 abs.
 */
class AttentionKernelTest extends CpuBackendTest {
  private static final double MASKED = -Float.MAX_VALUE;

  /** An attention problem with host data: qkv (B, T, 3C), dout (B, T, C), key mask (B, T) or null. */
  static final class Problem {
    final int b;
    final int t;
    final int c;
    final int nh;
    final int hd;
    final boolean causal;
    final int[] keyMask;
    final float dropoutP;
    final long seed;
    final long offset;
    final DType dtype;
    final float[] qkv;
    final float[] dout;

    Problem(int b, int t, int c, int nh, boolean causal, int[] keyMask, float dropoutP, DType dtype) {
      this(b, t, c, nh, causal, keyMask, dropoutP, dtype, 1234, 77);
    }

    /** The same data with the dropout stream (seed, offset). */
    Problem(int b, int t, int c, int nh, boolean causal, int[] keyMask, float dropoutP, DType dtype, long seed,
        long offset) {
      this.b = b;
      this.t = t;
      this.c = c;
      this.nh = nh;
      this.hd = c / nh;
      this.causal = causal;
      this.keyMask = keyMask;
      this.dropoutP = dropoutP;
      this.seed = seed;
      this.offset = offset;
      this.dtype = dtype;
      this.qkv = roundTo(dtype, randomFloats(b * 1000L + t, b * t * 3 * c, 1.5));
      this.dout = roundTo(dtype, randomFloats(t * 1000L + c, b * t * c, 1));
    }

    float q(int bi, int ti, int h, int i) {
      return qkv[(bi * t + ti) * 3 * c + h * hd + i];
    }

    float k(int bi, int ti, int h, int i) {
      return qkv[(bi * t + ti) * 3 * c + c + h * hd + i];
    }

    float v(int bi, int ti, int h, int i) {
      return qkv[(bi * t + ti) * 3 * c + 2 * c + h * hd + i];
    }

    /** keep / (1 - p) per element of the (B, NH, T, T) probability tensor, from the dropout op. */
    float[] dropoutScale() {
      float[] ones = new float[b * nh * t * t];
      Arrays.fill(ones, 1f);
      if (dropoutP == 0) {
        return ones;
      }
      Tensor mask = f32(backend, arena, ones, ones.length);
      backend.dropoutForward(mask, mask, dropoutP, seed, offset);
      return backend.downloadFloats(mask);
    }

    /** Probabilities P (T) of query ti of head (bi, h); lseOut[0] receives the log-sum-exp. */
    double[] probabilities(int bi, int h, int ti, double[] lseOut) {
      double scale = 1 / Math.sqrt(hd);
      double[] s = new double[t];
      double max = Double.NEGATIVE_INFINITY;
      for (int si = 0; si < t; si++) {
        double dot = 0;
        for (int i = 0; i < hd; i++) {
          dot += (double) q(bi, ti, h, i) * k(bi, si, h, i);
        }
        s[si] = causal && si > ti ? MASKED : dot * scale;
        if (keyMask != null && keyMask[bi * t + si] == 0) {
          s[si] += MASKED;
        }
        max = Math.max(max, s[si]);
      }
      double sum = 0;
      for (int si = 0; si < t; si++) {
        s[si] = Math.exp(s[si] - max);
        sum += s[si];
      }
      for (int si = 0; si < t; si++) {
        s[si] /= sum;
      }
      lseOut[0] = max + Math.log(sum);
      return s;
    }

    /** {out (B, T, C), lse (B, NH, T), dqkv (B, T, 3C)} in double. */
    double[][] reference() {
      float[] keep = dropoutScale();
      double scale = 1 / Math.sqrt(hd);
      double[] out = new double[b * t * c];
      double[] lse = new double[b * nh * t];
      double[] dqkv = new double[b * t * 3 * c];
      double[] lseOut = new double[1];
      for (int bi = 0; bi < b; bi++) {
        for (int h = 0; h < nh; h++) {
          for (int ti = 0; ti < t; ti++) {
            double[] p = probabilities(bi, h, ti, lseOut);
            lse[(bi * nh + h) * t + ti] = lseOut[0];
            double[] dp = new double[t];
            double d = 0; // sum_s P dP = dO . O
            for (int si = 0; si < t; si++) {
              double kept = keep[((bi * nh + h) * t + ti) * t + si];
              double dpd = 0;
              for (int i = 0; i < hd; i++) {
                out[(bi * t + ti) * c + h * hd + i] += p[si] * kept * v(bi, si, h, i);
                double g = dout[(bi * t + ti) * c + h * hd + i];
                dqkv[(bi * t + si) * 3 * c + 2 * c + h * hd + i] += p[si] * kept * g; // dV
                dpd += g * v(bi, si, h, i);
              }
              dp[si] = dpd * kept;
              d += p[si] * dp[si];
            }
            for (int si = 0; si < t; si++) {
              double ds = causal && si > ti ? 0 : p[si] * (dp[si] - d) * scale; // where() blocks the gradient
              for (int i = 0; i < hd; i++) {
                dqkv[(bi * t + ti) * 3 * c + h * hd + i] += ds * k(bi, si, h, i);
                dqkv[(bi * t + si) * 3 * c + c + h * hd + i] += ds * q(bi, ti, h, i);
              }
            }
          }
        }
      }
      return new double[][] {out, lse, dqkv};
    }

    Tensor mask() {
      return keyMask == null ? null : i32(backend, arena, keyMask, b, t);
    }

    /** {out, lse, dqkv} from the kernels (dqkv pre-filled with NaN: it must be overwritten). */
    float[][] run() {
      Tensor tqkv = floats(backend, arena, dtype, qkv, b, t, 3 * c);
      Tensor out = arena.allocate(dtype, b, t, c);
      Tensor lse = arena.allocate(DType.F32, b, nh, t);
      Tensor mask = mask();
      backend.attentionForward(out, lse, tqkv, mask, nh, causal, dropoutP, seed, offset);
      float[] nan = new float[qkv.length];
      Arrays.fill(nan, Float.NaN);
      Tensor dqkv = floats(backend, arena, dtype, nan, b, t, 3 * c);
      backend.attentionBackward(dqkv, floats(backend, arena, dtype, dout, b, t, c), tqkv, out, lse, mask, nh, causal,
          dropoutP, seed, offset);
      return new float[][] {backend.downloadFloats(out), backend.downloadFloats(lse), backend.downloadFloats(dqkv)};
    }

    /** loss = sum(out * dout) through the forward kernel (F32), for finite differences. */
    double loss() {
      Tensor out = arena.allocate(DType.F32, b, t, c);
      Tensor lse = arena.allocate(DType.F32, b, nh, t);
      backend.attentionForward(out, lse, f32(backend, arena, qkv, b, t, 3 * c), mask(), nh, causal, dropoutP, seed,
          offset);
      float[] o = backend.downloadFloats(out);
      double sum = 0;
      for (int i = 0; i < o.length; i++) {
        sum += (double) o[i] * dout[i];
      }
      return sum;
    }

    void checkAgainstReference(double atolOut, double atolGrad, double rtol) {
      double[][] ref = reference();
      float[][] got = run();
      String what = toString();
      assertClose(what + " out", ref[0], got[0], atolOut, rtol);
      assertClose(what + " lse", ref[1], got[1], atolOut, rtol);
      assertClose(what + " dqkv", ref[2], got[2], atolGrad, 10 * rtol);
    }

    @Override
    public String toString() {
      return String.format("B=%d T=%d C=%d NH=%d causal=%s mask=%s p=%s %s", b, t, c, nh, causal,
          keyMask == null ? "none" : "padded", dropoutP, dtype);
    }
  }

  /**
   * Batch 0 pads its last T/3 keys. Batch 1 (if any) pads every key when not causal (rows attend
   * uniformly) and its first T/3 keys when causal (left padding: the first rows see only padding).
   */
  static int[] paddingMask(int b, int t, boolean causal) {
    int[] mask = new int[b * t];
    for (int bi = 0; bi < b; bi++) {
      for (int ti = 0; ti < t; ti++) {
        boolean padded = bi == 0 ? ti >= t - t / 3 : !causal || ti < t / 3;
        mask[bi * t + ti] = padded ? 0 : 1;
      }
    }
    return mask;
  }

  @ParameterizedTest
  @CsvSource({"1, 1, 8, 1", "2, 31, 64, 4", "2, 33, 32, 2", "1, 127, 64, 2", "2, 32, 48, 3"})
  void forwardAndBackwardMatchReference(int b, int t, int c, int nh) {
    for (boolean causal : new boolean[] {false, true}) {
      for (boolean padded : new boolean[] {false, true}) {
        int[] mask = padded ? paddingMask(b, t, causal) : null;
        new Problem(b, t, c, nh, causal, mask, 0f, DType.F32).checkAgainstReference(1e-5, 1e-4, 1e-4);
      }
    }
  }

  @Test
  void fullyMaskedRowAttendsUniformlyLikeHuggingFace() {
    Problem p = new Problem(2, 5, 8, 2, false, paddingMask(2, 5, false), 0f, DType.F32);
    float[] out = p.run()[0];
    for (int ti = 0; ti < 5; ti++) {
      for (int j = 0; j < 8; j++) {
        double mean = 0;
        for (int si = 0; si < 5; si++) {
          mean += p.v(1, si, j / 4, j % 4) / 5.0;
        }
        assertEquals(mean, out[(5 + ti) * 8 + j], 1e-6, "batch 1 is fully padded: out is the mean of V");
      }
    }
  }

  @ParameterizedTest
  @CsvSource({"false, 0", "true, 0", "false, 0.3", "true, 0.3"})
  void backwardMatchesFiniteDifferences(boolean causal, float dropoutP) {
    int b = 2;
    int t = 5;
    int c = 8;
    int[] mask = {1, 1, 1, 0, 0, 1, 1, 1, 1, 1}; // every query keeps at least one visible real key
    Problem p = new Problem(b, t, c, 2, causal, mask, dropoutP, DType.F32);
    float[] analytic = p.run()[2];
    double[] numeric = new double[p.qkv.length];
    for (int i = 0; i < numeric.length; i++) {
      numeric[i] = finiteDifference(p.qkv, i, 1e-2, p::loss);
    }
    assertClose(p + " dqkv vs finite differences", numeric, analytic, 1e-3, 1e-2);
  }

  @Test
  void dropoutMatchesReferenceAndIsThreadCountIndependent() {
    Problem p = new Problem(2, 33, 32, 2, true, paddingMask(2, 33, true), 0.2f, DType.F32);
    p.checkAgainstReference(1e-5, 1e-4, 1e-4);
    Problem big = new Problem(2, 127, 64, 4, false, paddingMask(2, 127, false), 0.1f, DType.F32);
    int threads = CpuBackend.threads();
    float[][] one;
    float[][] three;
    try {
      CpuBackend.setThreads(1);
      one = big.run();
      CpuBackend.setThreads(3);
      three = big.run();
    } finally {
      CpuBackend.setThreads(threads);
    }
    for (int i = 0; i < 3; i++) {
      assertArrayEquals(one[i], three[i], "attention output " + i + " depends on the thread count");
    }
    assertArrayEquals(one[0], big.run()[0], "dropout is not deterministic");
  }

  @Test
  void zeroDropoutIsNoDropoutWhateverTheSeed() {
    Problem p = new Problem(2, 31, 64, 4, true, null, 0f, DType.F32);
    float[][] a = p.run();
    Problem otherStream = new Problem(2, 31, 64, 4, true, null, 0f, DType.F32, 99, 123_456);
    float[][] b = otherStream.run();
    assertArrayEquals(a[0], b[0]);
    assertArrayEquals(a[2], b[2]);
    Problem dropped = new Problem(2, 31, 64, 4, true, null, 0.5f, DType.F32);
    assertFalse(Arrays.equals(a[0], dropped.run()[0]), "p = 0.5 changed nothing");
    Problem droppedOtherStream = new Problem(2, 31, 64, 4, true, null, 0.5f, DType.F32, 99, 123_456);
    assertFalse(Arrays.equals(dropped.run()[0], droppedOtherStream.run()[0]), "the stream did not change the mask");
    p.checkAgainstReference(1e-5, 1e-4, 1e-4);
  }

  @Test
  void halfPrecisionMatchesReferenceLoosely() {
    for (boolean causal : new boolean[] {false, true}) {
      new Problem(2, 31, 64, 4, causal, paddingMask(2, 31, causal), 0f, DType.BF16)
          .checkAgainstReference(2e-2, 2e-2, 2e-3);
      new Problem(1, 33, 32, 2, causal, null, 0.1f, DType.F16).checkAgainstReference(5e-3, 5e-3, 1e-3);
    }
  }

  @Test
  void badArgumentsGiveClearExceptions() {
    Tensor qkv = arena.allocate(DType.F32, 2, 4, 12);
    Tensor out = arena.allocate(DType.F32, 2, 4, 4);
    Tensor lse = arena.allocate(DType.F32, 2, 3, 4);
    IllegalArgumentException heads = assertThrows(IllegalArgumentException.class,
        () -> backend.attentionForward(out, lse, qkv, null, 3, false, 0f, 0, 0));
    assertEquals("attentionForward: C=4 must be divisible by numHeads=3", heads.getMessage());
    Tensor lse2 = arena.allocate(DType.F32, 2, 2, 4);
    Tensor shortMask = arena.allocate(DType.I32, 2, 3);
    IllegalArgumentException mask = assertThrows(IllegalArgumentException.class,
        () -> backend.attentionForward(out, lse2, qkv, shortMask, 2, false, 0f, 0, 0));
    assertTrue(mask.getMessage().startsWith("attentionForward: keyMask must have 8 I32 elements"), mask.getMessage());
    NullPointerException npe = assertThrows(NullPointerException.class,
        () -> backend.attentionForward(out, lse2, null, null, 2, false, 0f, 0, 0));
    assertEquals("attentionForward: qkv is null", npe.getMessage());
    NativeException p = assertThrows(NativeException.class,
        () -> backend.attentionForward(out, lse2, qkv, null, 2, false, 1f, 0, 0));
    assertTrue(p.getMessage().startsWith("lmt_attention_forward: dropout_p must be in [0, 1)"), p.getMessage());
    Tensor dqkv = arena.allocate(DType.F32, 2, 4, 6);
    IllegalArgumentException grad = assertThrows(IllegalArgumentException.class,
        () -> backend.attentionBackward(dqkv, out, qkv, out, lse2, null, 2, false, 0f, 0, 0));
    assertTrue(grad.getMessage().startsWith("attentionBackward: dqkv must match"), grad.getMessage());
  }
}
