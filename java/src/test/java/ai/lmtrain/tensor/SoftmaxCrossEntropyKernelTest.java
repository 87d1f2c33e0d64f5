package ai.lmtrain.tensor;

import static ai.lmtrain.tensor.KernelTestSupport.assertClose;
import static ai.lmtrain.tensor.KernelTestSupport.f32;
import static ai.lmtrain.tensor.KernelTestSupport.finiteDifference;
import static ai.lmtrain.tensor.KernelTestSupport.floats;
import static ai.lmtrain.tensor.KernelTestSupport.i32;
import static ai.lmtrain.tensor.KernelTestSupport.randomFloats;
import static ai.lmtrain.tensor.KernelTestSupport.randomInts;
import static ai.lmtrain.tensor.KernelTestSupport.roundTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.nativebridge.NativeException;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Fused softmax cross-entropy on the CPU backend against a double-precision Java reference on the
 * same (type-rounded) logits, and dlogits against finite differences of the reference loss_sum;
 * rows of a padded vocabulary (only the first V of ld columns scored) and the argmax predictions.
 * Tolerances: losses are fp32 for every storage type (atol 1e-5, rtol 1e-5); dlogits F32 atol
 * 1e-8 rtol 1e-5, BF16 rtol 2^-8 and F16 rtol 2^-11 (one rounding of the output) with atol 1e-7;
 * predictions and the zeros of padding columns exactly.
 */
class SoftmaxCrossEntropyKernelTest extends CpuBackendTest {
  private static final int IGNORE = -100;
  @AfterEach
  void releaseTensors() {
    arena.reset();
  }

  static double gradRtol(DType dt) {
    return switch (dt) {
      case BF16 -> 1.0 / 256;
      case F16 -> 1.0 / 2048;
      default -> 1e-5;
    };
  }

  static double gradAtol(DType dt) {
    return dt == DType.F32 ? 1e-8 : 1e-7;
  }

  /** The reference results: row losses (n), loss_sum, dlogits (n*v). */
  record Reference(double[] rowLoss, double lossSum, double[] dlogits) {}

  static Reference reference(float[] logits, int[] labels, float[] weights, int n, int v, int ignoreIndex,
      double gradScale) {
    double[] rowLoss = new double[n];
    double[] dlogits = new double[n * v];
    double lossSum = 0;
    for (int i = 0; i < n; i++) {
      if (labels[i] == ignoreIndex) {
        continue;
      }
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < v; j++) {
        max = Math.max(max, logits[i * v + j]);
      }
      double sum = 0;
      for (int j = 0; j < v; j++) {
        sum += Math.exp(logits[i * v + j] - max);
      }
      double w = weights == null ? 1 : weights[i];
      rowLoss[i] = max + Math.log(sum) - logits[i * v + labels[i]];
      lossSum += w * rowLoss[i];
      for (int j = 0; j < v; j++) {
        double p = Math.exp(logits[i * v + j] - max) / sum;
        dlogits[i * v + j] = gradScale * w * (p - (j == labels[i] ? 1 : 0));
      }
    }
    return new Reference(rowLoss, lossSum, dlogits);
  }

  /** Random labels in [0, v) with every third row ignored. */
  static int[] labelsWithIgnoredRows(long seed, int n, int v) {
    int[] labels = randomInts(seed, n, v);
    for (int i = 1; i < n; i += 3) {
      labels[i] = IGNORE;
    }
    return labels;
  }

  static float[] positiveWeights(long seed, int n) {
    float[] w = randomFloats(seed, n, 1);
    for (int i = 0; i < n; i++) {
      w[i] = 0.25f + Math.abs(w[i]);
    }
    return w;
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
  void lossesAndGradientsMatchReference(DType dt) {
    for (int n : KernelTestSupport.ODD_AND_EVEN_SIZES) {
      for (int v : KernelTestSupport.ODD_AND_EVEN_SIZES) {
        arena.reset();
        String at = dt + " N=" + n + " V=" + v;
        long seed = 100L * n + v;
        float[] logits = roundTo(dt, randomFloats(seed, n * v, 6));
        int[] labels = labelsWithIgnoredRows(seed + 1, n, v);
        float[] weights = positiveWeights(seed + 2, n);
        float gradScale = 0.37f;
        Tensor tlogits = floats(backend, arena, dt, logits, n, v);
        Tensor tlabels = i32(backend, arena, labels, n);
        Tensor tweights = f32(backend, arena, weights, n);
        Tensor lossSum = arena.allocate(DType.F32, 1);
        Tensor rowLoss = arena.allocate(DType.F32, n);
        Tensor dlogits = arena.allocate(dt, n, v);
        backend.softmaxCrossEntropy(lossSum, rowLoss, dlogits, tlogits, tlabels, tweights, IGNORE, gradScale);

        Reference ref = reference(logits, labels, weights, n, v, IGNORE, gradScale);
        float sum = backend.downloadFloats(lossSum)[0];
        assertClose("loss_sum " + at, new double[] {ref.lossSum()}, new float[] {sum}, 1e-5, 1e-5);
        assertClose("row_loss " + at, ref.rowLoss(), backend.downloadFloats(rowLoss), 1e-5, 1e-5);
        assertClose("dlogits " + at, ref.dlogits(), backend.downloadFloats(dlogits), gradAtol(dt), gradRtol(dt));

        // loss_sum alone (no row_loss, no dlogits) is the same number
        backend.softmaxCrossEntropy(lossSum, null, null, tlogits, tlabels, tweights, IGNORE, gradScale);
        assertEquals(Float.floatToIntBits(sum), Float.floatToIntBits(backend.downloadFloats(lossSum)[0]), at);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
  void inPlaceGradientEqualsTheSeparateOne(DType dt) {
    int n = 33;
    int v = 127;
    float[] logits = roundTo(dt, randomFloats(5, n * v, 8));
    int[] labels = labelsWithIgnoredRows(6, n, v);
    Tensor tlabels = i32(backend, arena, labels, n);
    Tensor separate = arena.allocate(dt, n, v);
    backend.softmaxCrossEntropy(null, null, separate, floats(backend, arena, dt, logits, n, v), tlabels, null, IGNORE,
        1f / n);
    Tensor inPlace = floats(backend, arena, dt, logits, n, v);
    Tensor rowLoss = arena.allocate(DType.F32, n);
    backend.softmaxCrossEntropy(null, rowLoss, inPlace, inPlace, tlabels, null, IGNORE, 1f / n);

    assertArrayEquals(backend.downloadBytes(separate), backend.downloadBytes(inPlace), "in-place dlogits differ");
    Reference ref = reference(logits, labels, null, n, v, IGNORE, 1.0 / n);
    assertClose("in-place row_loss " + dt, ref.rowLoss(), backend.downloadFloats(rowLoss), 1e-5, 1e-5);
    assertClose("in-place dlogits " + dt, ref.dlogits(), backend.downloadFloats(inPlace), gradAtol(dt), gradRtol(dt));
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void gpt2SizedVocabularyRows(DType dt) {
    int n = 4;
    int v = 50257;
    float[] logits = roundTo(dt, randomFloats(11, n * v, 10));
    int[] labels = {50256, IGNORE, 0, 31337};
    Tensor tlogits = floats(backend, arena, dt, logits, n, v);
    Tensor lossSum = arena.allocate(DType.F32, 1);
    backend.softmaxCrossEntropy(lossSum, null, tlogits, tlogits, i32(backend, arena, labels, n), null, IGNORE, 1f / 3);
    Reference ref = reference(logits, labels, null, n, v, IGNORE, 1.0 / 3);
    assertClose("loss_sum " + dt, new double[] {ref.lossSum()}, backend.downloadFloats(lossSum), 1e-5, 1e-5);
    assertClose("dlogits " + dt, ref.dlogits(), backend.downloadFloats(tlogits), gradAtol(dt), gradRtol(dt));
  }

  /** The first {@code v} columns of each of the n rows of x (n, ld). */
  static float[] firstColumns(float[] x, int n, int ld, int v) {
    float[] out = new float[n * v];
    for (int i = 0; i < n; i++) {
      System.arraycopy(x, i * ld, out, i * v, v);
    }
    return out;
  }

  /** Each non-ignored row's argmax over its first v columns (lowest among ties), -1 for ignored rows. */
  static int[] referenceArgmax(float[] x, int[] labels, int n, int ld, int v) {
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      int best = 0;
      for (int j = 1; j < v; j++) {
        best = x[i * ld + j] > x[i * ld + best] ? j : best;
      }
      out[i] = labels[i] == IGNORE ? -1 : best;
    }
    return out;
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
  void paddedColumnsAreNeitherReadNorScoredAndPredictionsAreTheArgmax(DType dt) {
    for (int v : new int[] {1, 31, 33, 1000}) {
      int ld = (v + 127) / 128 * 128 + (v == 1000 ? 0 : 128); // padding of 24 or more columns
      for (int n : new int[] {1, 7, 33}) {
        arena.reset();
        String at = dt + " N=" + n + " V=" + v + " ld=" + ld;
        long seed = 1000L * n + v;
        float[] logits = roundTo(dt, randomFloats(seed, n * ld, 6));
        for (int i = 0; i < n; i++) {
          for (int j = v; j < ld; j++) {
            logits[i * ld + j] = j % 2 == 0 ? 1e4f : Float.NaN; // would win the softmax, or poison it, if read
          }
          if (v > 2) {
            logits[i * ld + v - 1] = logits[i * ld + 1]; // a tie for the argmax when column 1 is the max
          }
        }
        int[] labels = labelsWithIgnoredRows(seed + 1, n, v);
        float[] weights = positiveWeights(seed + 2, n);
        Tensor tlogits = floats(backend, arena, dt, logits, n, ld);
        Tensor lossSum = arena.allocate(DType.F32, 1);
        Tensor rowLoss = arena.allocate(DType.F32, n);
        Tensor predictions = arena.allocate(DType.I32, n);
        Tensor dlogits = arena.allocate(dt, n, ld);
        backend.softmaxCrossEntropy(lossSum, rowLoss, predictions, dlogits, tlogits, v, i32(backend, arena, labels, n),
            f32(backend, arena, weights, n), IGNORE, 0.5f);

        Reference ref = reference(firstColumns(logits, n, ld, v), labels, weights, n, v, IGNORE, 0.5);
        assertClose("loss_sum " + at, new double[] {ref.lossSum()}, backend.downloadFloats(lossSum), 1e-5, 1e-5);
        assertClose("row_loss " + at, ref.rowLoss(), backend.downloadFloats(rowLoss), 1e-5, 1e-5);
        float[] d = backend.downloadFloats(dlogits);
        assertClose("dlogits " + at, ref.dlogits(), firstColumns(d, n, ld, v), gradAtol(dt), gradRtol(dt));
        for (int i = 0; i < n; i++) {
          for (int j = v; j < ld; j++) {
            assertEquals(0f, d[i * ld + j], at + ": dlogits of padding column " + j + " in row " + i);
          }
        }
        assertArrayEquals(referenceArgmax(logits, labels, n, ld, v), backend.downloadInts(predictions), at);
      }
    }
  }

  @Test
  void gradientMatchesFiniteDifferencesOfTheLossSum() {
    int n = 3;
    int v = 7;
    float[] logits = randomFloats(31, n * v, 3);
    int[] labels = {4, IGNORE, 0};
    float[] weights = {0.5f, 2f, 1.5f};
    Tensor dlogits = arena.allocate(DType.F32, n, v);
    backend.softmaxCrossEntropy(null, null, dlogits, f32(backend, arena, logits, n, v), i32(backend, arena, labels, n),
        f32(backend, arena, weights, n), IGNORE, 1f);
    double[] fd = new double[n * v];
    for (int i = 0; i < fd.length; i++) {
      fd[i] = finiteDifference(logits, i, 1e-3, () -> reference(logits, labels, weights, n, v, IGNORE, 1).lossSum());
    }
    assertClose("dlogits vs finite differences of loss_sum", fd, backend.downloadFloats(dlogits), 1e-4, 1e-3);
  }

  @Test
  void ignoreIndexInsideTheVocabularyIsStillIgnored() {
    int n = 4;
    int v = 5;
    float[] logits = randomFloats(41, n * v, 2);
    int[] labels = {0, 3, 0, 2};
    Tensor lossSum = arena.allocate(DType.F32, 1);
    Tensor rowLoss = arena.allocate(DType.F32, n);
    Tensor dlogits = arena.allocate(DType.F32, n, v);
    backend.softmaxCrossEntropy(lossSum, rowLoss, dlogits, f32(backend, arena, logits, n, v),
        i32(backend, arena, labels, n), null, 0, 1f);
    Reference ref = reference(logits, labels, null, n, v, 0, 1);
    float[] rows = backend.downloadFloats(rowLoss);
    assertEquals(0f, rows[0]);
    assertEquals(0f, rows[2]);
    assertClose("row_loss", ref.rowLoss(), rows, 1e-5, 1e-5);
    assertClose("loss_sum", new double[] {ref.lossSum()}, backend.downloadFloats(lossSum), 1e-5, 1e-5);
    assertClose("dlogits", ref.dlogits(), backend.downloadFloats(dlogits), 1e-8, 1e-5);
  }

  @Test
  void resultsAreBitIdenticalForAnyThreadCount() {
    int n = 257;
    int v = 1000;
    Tensor logits = f32(backend, arena, randomFloats(51, n * v, 5), n, v);
    Tensor labels = i32(backend, arena, labelsWithIgnoredRows(52, n, v), n);
    Tensor weights = f32(backend, arena, positiveWeights(53, n), n);
    byte[][] one = runWithThreads(1, logits, labels, weights);
    byte[][] three = runWithThreads(3, logits, labels, weights);
    assertArrayEquals(one[0], three[0], "loss_sum depends on the thread count");
    assertArrayEquals(one[1], three[1], "dlogits depend on the thread count");
  }

  private byte[][] runWithThreads(int threads, Tensor logits, Tensor labels, Tensor weights) {
    int saved = CpuBackend.threads();
    try {
      CpuBackend.setThreads(threads);
      Tensor lossSum = arena.allocate(DType.F32, 1);
      Tensor dlogits = arena.allocate(DType.F32, logits.shape());
      backend.softmaxCrossEntropy(lossSum, null, dlogits, logits, labels, weights, IGNORE, 0.01f);
      return new byte[][] {backend.downloadBytes(lossSum), backend.downloadBytes(dlogits)};
    } finally {
      CpuBackend.setThreads(saved);
    }
  }

  @Test
  void labelOutOfRangeIsRejectedBeforeAnythingIsWritten() {
    int n = 3;
    int v = 7;
    Tensor logits = f32(backend, arena, randomFloats(61, n * v, 1), n, v);
    float[] sentinel = new float[n * v];
    Arrays.fill(sentinel, 42f);
    Tensor dlogits = f32(backend, arena, sentinel, n, v);
    Tensor rowLoss = f32(backend, arena, new float[] {42f, 42f, 42f}, n);
    NativeException e = assertThrows(NativeException.class, () -> backend.softmaxCrossEntropy(null, rowLoss, dlogits,
        logits, i32(backend, arena, new int[] {1, IGNORE, 7}, n), null, IGNORE, 1f));
    assertEquals("lmt_softmax_cross_entropy: labels[2] = 7 is out of range [0, V = 7) and is not ignore_index (-100)",
        e.getMessage());
    assertEquals(1, e.status());
    assertArrayEquals(sentinel, backend.downloadFloats(dlogits), "dlogits were written before the label check");
    assertArrayEquals(new float[] {42f, 42f, 42f}, backend.downloadFloats(rowLoss), "row_loss was written");
    e = assertThrows(NativeException.class, () -> backend.softmaxCrossEntropy(null, rowLoss, null, logits,
        i32(backend, arena, new int[] {-1, 0, 0}, n), null, IGNORE, 1f));
    assertEquals("lmt_softmax_cross_entropy: labels[0] = -1 is out of range [0, V = 7) and is not ignore_index (-100)",
        e.getMessage());
  }

  @Test
  void shapeMismatchesGiveIllegalArgumentExceptions() {
    Tensor logits = arena.allocate(DType.F32, 3, 7);
    Tensor labels = i32(backend, arena, new int[] {0, 1}, 2);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> backend.softmaxCrossEntropy(null, null, logits, logits, labels, null, IGNORE, 1f));
    assertTrue(e.getMessage().startsWith("softmaxCrossEntropy: labels must have 3 I32 elements"), e.getMessage());
    Tensor goodLabels = i32(backend, arena, new int[] {0, 1, 2}, 3);
    Tensor bf16Grad = arena.allocate(DType.BF16, 3, 7);
    e = assertThrows(IllegalArgumentException.class,
        () -> backend.softmaxCrossEntropy(null, null, bf16Grad, logits, goodLabels, null, IGNORE, 1f));
    assertTrue(e.getMessage().startsWith("softmaxCrossEntropy: dlogits must match"), e.getMessage());
    NativeException ne = assertThrows(NativeException.class,
        () -> backend.softmaxCrossEntropy(null, null, null, logits, goodLabels, null, IGNORE, 1f));
    assertEquals("lmt_softmax_cross_entropy: loss_sum, row_loss, predictions and dlogits are all NULL (nothing to"
        + " compute)", ne.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> backend.softmaxCrossEntropy(null, null, null, logits, logits,
        8, goodLabels, null, IGNORE, 1f));
    assertEquals("softmaxCrossEntropy: classes must be in [1, 7] (the logits' columns), got 8", e.getMessage());
  }
}
