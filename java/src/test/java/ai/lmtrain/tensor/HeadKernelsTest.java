package ai.lmtrain.tensor;

import static ai.lmtrain.tensor.KernelTestSupport.assertClose;
import static ai.lmtrain.tensor.KernelTestSupport.f32;
import static ai.lmtrain.tensor.KernelTestSupport.floats;
import static ai.lmtrain.tensor.KernelTestSupport.i32;
import static ai.lmtrain.tensor.KernelTestSupport.randomFloats;
import static ai.lmtrain.tensor.KernelTestSupport.roundTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.lmtrain.nativebridge.NativeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The kernels of the sequence-classification heads on the CPU backend against double-precision
 * Java references: tanh (BERT's pooler), row gather (the [CLS] or last-token row) and the pointwise
 * losses (BCE with logits, MSE). Tolerances: F32 forward 1e-6 absolute + 1e-5 relative; backward
 * against central finite differences (h = 1e-3 in double) 1e-5 absolute + 1e-4 relative; BF16 / F16
 * outputs one rounding of the type (2^-8, 2^-11 relative); the row gather is an exact copy.
 */
class HeadKernelsTest extends CpuBackendTest {

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
  void tanhForwardAndBackwardMatchTheReferenceAndFiniteDifferences(DType dt) {
    for (int n : KernelTestSupport.ODD_AND_EVEN_SIZES) {
      float[] x = roundTo(dt, randomFloats(3L * n, n, 3));
      float[] dout = roundTo(dt, randomFloats(5L * n, n, 1));
      Tensor tx = floats(backend, arena, dt, x, n);
      Tensor tg = floats(backend, arena, dt, dout, n);
      Tensor y = arena.allocate(dt, n);
      Tensor dx = arena.allocate(dt, n);
      backend.tanh(y, tx);
      backend.tanhBackward(dx, y, tg);
      double[] ref = new double[n];
      double[] dref = new double[n];
      double h = 1e-3;
      for (int i = 0; i < n; i++) {
        ref[i] = Math.tanh(x[i]);
        dref[i] = dout[i] * (Math.tanh(x[i] + h) - Math.tanh(x[i] - h)) / (2 * h);
      }
      double rtol = ElementwiseKernelsTest.outputTolerance(dt);
      assertClose(dt + " tanh n=" + n, ref, backend.downloadFloats(y), dt == DType.F32 ? 1e-6 : 0, Math.max(1e-5, rtol));
      // the backward reads the rounded output y, so a half type adds about 2|y| * rounding of y
      assertClose(dt + " tanh backward n=" + n + " vs finite differences", dref, backend.downloadFloats(dx),
          dt == DType.F32 ? 1e-5 : 4 * rtol, dt == DType.F32 ? 1e-4 : 2 * rtol);
    }
  }

  @Test
  void tanhBackwardWorksInPlace() {
    float[] x = randomFloats(9, 33, 2);
    float[] dout = randomFloats(10, 33, 1);
    Tensor y = arena.allocate(DType.F32, 33);
    backend.tanh(y, f32(backend, arena, x, 33));
    Tensor separate = arena.allocate(DType.F32, 33);
    backend.tanhBackward(separate, y, f32(backend, arena, dout, 33));
    Tensor inPlace = f32(backend, arena, dout, 33);
    backend.tanhBackward(inPlace, y, inPlace);
    assertArrayEquals(backend.downloadFloats(separate), backend.downloadFloats(inPlace));
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
  void gatherRowsCopiesRowsAndScattersTheGradientBack(DType dt) {
    for (int c : KernelTestSupport.ODD_AND_EVEN_SIZES) {
      int n = 9;
      int[] rows = {7, 0, 3};
      float[] x = roundTo(dt, randomFloats(c, n * c, 2));
      float[] dout = roundTo(dt, randomFloats(c + 1L, rows.length * c, 2));
      Tensor picked = arena.allocate(dt, rows.length, c);
      Tensor tr = i32(backend, arena, rows, rows.length);
      backend.gatherRows(picked, floats(backend, arena, dt, x, n, c), tr);
      Tensor dx = floats(backend, arena, dt, randomFloats(99, n * c, 5), n, c); // stale values must be overwritten
      backend.gatherRowsBackward(dx, floats(backend, arena, dt, dout, rows.length, c), tr);
      float[] expectedPick = new float[rows.length * c];
      float[] expectedGrad = new float[n * c];
      for (int m = 0; m < rows.length; m++) {
        System.arraycopy(x, rows[m] * c, expectedPick, m * c, c);
        System.arraycopy(dout, m * c, expectedGrad, rows[m] * c, c);
      }
      assertArrayEquals(expectedPick, backend.downloadFloats(picked), dt + " gather C=" + c);
      assertArrayEquals(expectedGrad, backend.downloadFloats(dx), dt + " gather backward C=" + c);
    }
  }

  @Test
  void gatherRowsRejectsOutOfRangeAndRepeatedRows() {
    Tensor x = arena.allocate(DType.F32, 4, 3);
    Tensor out = arena.allocate(DType.F32, 2, 3);
    NativeException range = assertThrows(NativeException.class,
        () -> backend.gatherRows(out, x, i32(backend, arena, new int[] {1, 4}, 2)));
    assertEquals("lmt_gather_rows_forward: rows[1] = 4 is out of range [0, N = 4)", range.getMessage());
    NativeException repeated = assertThrows(NativeException.class,
        () -> backend.gatherRowsBackward(x, out, i32(backend, arena, new int[] {2, 2}, 2)));
    assertEquals("lmt_gather_rows_backward: rows[1] = 2 repeats an earlier row (rows must be distinct)",
        repeated.getMessage());
    IllegalArgumentException width = assertThrows(IllegalArgumentException.class,
        () -> backend.gatherRows(arena.allocate(DType.F32, 2, 4), x, i32(backend, arena, new int[] {0, 1}, 2)));
    assertEquals("gatherRows: out Tensor(2, 4) F32 on cpu must have x's row length 3 and type F32", width.getMessage());
  }

  /** The element loss of the reference, in double. */
  private static double loss(PointwiseLoss kind, double x, double y) {
    return kind == PointwiseLoss.MSE ? (x - y) * (x - y) : Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));
  }

  @ParameterizedTest
  @EnumSource(PointwiseLoss.class)
  void pointwiseLossMatchesTheReferenceAndFiniteDifferences(PointwiseLoss kind) {
    for (int n : new int[] {1, 31, 32, 33, 127, 4097, 10_007}) {
      float[] x = randomFloats(n, n, 6);
      float[] y = randomFloats(n + 1L, n, 1);
      if (kind == PointwiseLoss.BCE_WITH_LOGITS) {
        for (int i = 0; i < n; i++) {
          y[i] = i % 3 == 0 ? 0.5f * (y[i] + 1) : (y[i] > 0 ? 1 : 0); // hard and soft targets in [0, 1]
        }
      }
      float gradScale = 1f / n;
      Tensor logits = f32(backend, arena, x, n);
      Tensor targets = f32(backend, arena, y, n);
      Tensor lossSum = arena.allocate(DType.F32, 1);
      Tensor dlogits = arena.allocate(DType.F32, n);
      backend.pointwiseLoss(lossSum, dlogits, logits, targets, kind, gradScale);
      double total = 0;
      for (int i = 0; i < n; i++) {
        total += loss(kind, x[i], y[i]);
      }
      assertClose(kind + " loss n=" + n, new double[] {total}, backend.downloadFloats(lossSum), 1e-6, 1e-6);
      double[] numeric = new double[Math.min(n, 40)];
      float[] analytic = new float[numeric.length];
      float[] grads = backend.downloadFloats(dlogits);
      for (int k = 0; k < numeric.length; k++) {
        int i = (int) ((long) k * n / numeric.length);
        final int at = i;
        numeric[k] = gradScale * (loss(kind, x[at] + 1e-3, y[at]) - loss(kind, x[at] - 1e-3, y[at])) / 2e-3;
        analytic[k] = grads[i];
      }
      assertClose(kind + " gradient n=" + n + " vs finite differences", numeric, analytic, 1e-5 * gradScale, 1e-4);
    }
  }

  @ParameterizedTest
  @EnumSource(PointwiseLoss.class)
  void pointwiseLossInPlaceAndHalfTypesAgreeWithF32(PointwiseLoss kind) {
    int n = 1001;
    float[] x = randomFloats(1, n, 3);
    float[] y = randomFloats(2, n, 1);
    Tensor separate = arena.allocate(DType.F32, n);
    Tensor sum = arena.allocate(DType.F32, 1);
    Tensor targets = f32(backend, arena, y, n);
    backend.pointwiseLoss(sum, separate, f32(backend, arena, x, n), targets, kind, 0.25f);
    Tensor inPlace = f32(backend, arena, x, n);
    Tensor sumInPlace = arena.allocate(DType.F32, 1);
    backend.pointwiseLoss(sumInPlace, inPlace, inPlace, targets, kind, 0.25f);
    assertArrayEquals(backend.downloadFloats(separate), backend.downloadFloats(inPlace));
    assertArrayEquals(backend.downloadFloats(sum), backend.downloadFloats(sumInPlace));
    for (DType dt : new DType[] {DType.BF16, DType.F16}) {
      float[] rounded = roundTo(dt, x);
      double total = 0;
      for (int i = 0; i < n; i++) {
        total += loss(kind, rounded[i], y[i]);
      }
      Tensor half = floats(backend, arena, dt, x, n);
      Tensor lossOnly = arena.allocate(DType.F32, 1);
      backend.pointwiseLoss(lossOnly, null, half, targets, kind, 1f);
      assertClose(dt + " " + kind + " loss", new double[] {total}, backend.downloadFloats(lossOnly), 0, 1e-6);
    }
  }

  @Test
  void pointwiseLossChecksItsArguments() {
    Tensor logits = arena.allocate(DType.F32, 5);
    IllegalArgumentException targets = assertThrows(IllegalArgumentException.class,
        () -> backend.pointwiseLoss(null, logits, logits, arena.allocate(DType.F32, 4), PointwiseLoss.MSE, 1f));
    assertEquals("pointwiseLoss: targets must have 5 F32 elements, got Tensor(4) F32 on cpu", targets.getMessage());
    NativeException nothing = assertThrows(NativeException.class,
        () -> backend.pointwiseLoss(null, null, logits, arena.allocate(DType.F32, 5), PointwiseLoss.MSE, 1f));
    assertEquals("lmt_pointwise_loss: loss_sum and dlogits are both NULL (nothing to compute)", nothing.getMessage());
  }

  @Test
  void pointwiseLossSumDoesNotDependOnTheThreadCount() {
    int n = 100_003;
    Tensor logits = f32(backend, arena, randomFloats(4, n, 4), n);
    Tensor targets = f32(backend, arena, randomFloats(5, n, 1), n);
    Tensor sum = arena.allocate(DType.F32, 1);
    int threads = CpuBackend.threads();
    float[] results = new float[2];
    try {
      for (int run = 0; run < 2; run++) {
        CpuBackend.setThreads(run == 0 ? 1 : 3);
        backend.pointwiseLoss(sum, null, logits, targets, PointwiseLoss.BCE_WITH_LOGITS, 1f);
        results[run] = backend.downloadFloats(sum)[0];
      }
    } finally {
      CpuBackend.setThreads(threads);
    }
    assertEquals(Float.floatToIntBits(results[0]), Float.floatToIntBits(results[1]));
  }
}
