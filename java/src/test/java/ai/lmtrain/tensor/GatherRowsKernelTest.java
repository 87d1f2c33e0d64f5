package ai.lmtrain.tensor;

import static ai.lmtrain.tensor.KernelTestSupport.f32;
import static ai.lmtrain.tensor.KernelTestSupport.finiteDifference;
import static ai.lmtrain.tensor.KernelTestSupport.floats;
import static ai.lmtrain.tensor.KernelTestSupport.i32;
import static ai.lmtrain.tensor.KernelTestSupport.randomFloats;
import static ai.lmtrain.tensor.KernelTestSupport.roundTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.nativebridge.NativeException;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The row gather (the LM head's picked positions) and its backward on the CPU backend against a
 * Java reference: both are copies, so every dtype must match exactly (tolerance 0), the backward
 * also against finite differences of sum(gather(x) * g) (atol 1e-3 on a step of 1e-2 in fp32), and
 * for any thread count. A bad index is rejected before anything is written.
 */
class GatherRowsKernelTest extends CpuBackendTest {

  /** m distinct rows of [0, n), ascending. */
  static int[] ascendingIndex(long seed, int m, int n) {
    SplittableRandom r = new SplittableRandom(seed);
    int[] all = new int[n];
    for (int i = 0; i < n; i++) {
      all[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      int t = all[i];
      all[i] = all[j];
      all[j] = t;
    }
    int[] picked = Arrays.copyOf(all, m);
    Arrays.sort(picked);
    return picked;
  }

  static float[] referenceGather(float[] x, int[] index, int c) {
    float[] out = new float[index.length * c];
    for (int i = 0; i < index.length; i++) {
      System.arraycopy(x, index[i] * c, out, i * c, c);
    }
    return out;
  }

  static float[] referenceScatter(float[] dout, int[] index, int n, int c) {
    float[] dx = new float[n * c];
    for (int i = 0; i < index.length; i++) {
      System.arraycopy(dout, i * c, dx, index[i] * c, c);
    }
    return dx;
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
  void gatherAndBackwardCopyExactly(DType dt) {
    for (int n : KernelTestSupport.ODD_AND_EVEN_SIZES) {
      for (int c : new int[] {1, 31, 768}) {
        for (int m : new int[] {1, (n + 1) / 2, n}) {
          arena.reset();
          String at = dt + " M=" + m + " N=" + n + " C=" + c;
          long seed = 7L * n + 13L * c + m;
          int[] index = ascendingIndex(seed, m, n);
          float[] x = roundTo(dt, randomFloats(seed + 1, n * c, 3));
          float[] dout = roundTo(dt, randomFloats(seed + 2, m * c, 3));
          Tensor tindex = i32(backend, arena, index, m);
          Tensor out = arena.allocate(dt, m, c);
          backend.gatherRows(out, floats(backend, arena, dt, x, n, c), tindex);
          assertArrayEquals(referenceGather(x, index, c), backend.downloadFloats(out), at);

          Tensor dx = floats(backend, arena, dt, randomFloats(seed + 3, n * c, 9), n, c); // old contents: overwritten
          backend.gatherRowsBackward(dx, floats(backend, arena, dt, dout, m, c), tindex);
          assertArrayEquals(referenceScatter(dout, index, n, c), backend.downloadFloats(dx), at);
        }
      }
    }
  }

  @Test
  void backwardMatchesFiniteDifferences() {
    int n = 9;
    int c = 5;
    int[] index = {0, 3, 4, 8};
    float[] x = randomFloats(21, n * c, 1);
    float[] g = randomFloats(22, index.length * c, 1);
    Tensor tindex = i32(backend, arena, index, index.length);
    Tensor dx = arena.allocate(DType.F32, n, c);
    backend.gatherRowsBackward(dx, f32(backend, arena, g, index.length, c), tindex);
    float[] analytic = backend.downloadFloats(dx);
    for (int i = 0; i < x.length; i++) {
      double fd = finiteDifference(x, i, 1e-2, () -> {
        Tensor out = arena.allocate(DType.F32, index.length, c);
        backend.gatherRows(out, f32(backend, arena, x, n, c), tindex);
        float[] y = backend.downloadFloats(out);
        double s = 0;
        for (int k = 0; k < y.length; k++) {
          s += (double) y[k] * g[k];
        }
        return s;
      });
      assertEquals(fd, analytic[i], 1e-3, "dx[" + i + "]");
    }
  }

  @Test
  void resultsAreBitIdenticalForAnyThreadCount() {
    int n = 2049;
    int c = 33;
    int[] index = ascendingIndex(31, 700, n);
    Tensor tindex = i32(backend, arena, index, index.length);
    Tensor dout = f32(backend, arena, randomFloats(32, index.length * c, 1), index.length, c);
    byte[][] runs = new byte[2][];
    int saved = CpuBackend.threads();
    try {
      for (int k = 0; k < 2; k++) {
        CpuBackend.setThreads(k == 0 ? 1 : 3);
        Tensor dx = arena.allocate(DType.F32, n, c);
        backend.gatherRowsBackward(dx, dout, tindex);
        runs[k] = backend.downloadBytes(dx);
      }
    } finally {
      CpuBackend.setThreads(saved);
    }
    assertArrayEquals(runs[0], runs[1], "the scatter depends on the thread count");
  }

  @Test
  void badIndexIsRejectedBeforeAnythingIsWritten() {
    int n = 5;
    int c = 3;
    float[] sentinel = new float[n * c];
    Arrays.fill(sentinel, 42f);
    Tensor dx = f32(backend, arena, sentinel, n, c);
    Tensor dout = f32(backend, arena, new float[3 * c], 3, c);
    NativeException e = assertThrows(NativeException.class,
        () -> backend.gatherRowsBackward(dx, dout, i32(backend, arena, new int[] {0, 2, 2}, 3)));
    assertEquals("lmt_gather_rows_backward: index[2] = 2 is not greater than index[1] = 2 (the index must be strictly"
        + " increasing)", e.getMessage());
    assertArrayEquals(sentinel, backend.downloadFloats(dx), "dx was written before the index check");
    e = assertThrows(NativeException.class,
        () -> backend.gatherRows(dout, dx, i32(backend, arena, new int[] {1, 4, 5}, 3)));
    assertEquals("lmt_gather_rows: index[2] = 5 is out of range [0, N = 5)", e.getMessage());
    IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
        () -> backend.gatherRows(arena.allocate(DType.F32, 3, 4), dx, i32(backend, arena, new int[] {0, 1, 2}, 3)));
    assertTrue(shape.getMessage().startsWith("gatherRows: the picked rows"), shape.getMessage());
    NativeException tooMany = assertThrows(NativeException.class, () -> backend.gatherRows(
        arena.allocate(DType.F32, 6, c), dx, i32(backend, arena, new int[] {0, 1, 2, 3, 4, 5}, 6)));
    assertEquals("lmt_gather_rows: M (6) must be <= N (5): the index picks distinct rows", tooMany.getMessage());
  }
}
