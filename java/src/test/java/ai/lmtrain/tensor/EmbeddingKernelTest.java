package ai.lmtrain.tensor;

import static ai.lmtrain.tensor.KernelTestSupport.assertClose;
import static ai.lmtrain.tensor.KernelTestSupport.f32;
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
 * Token + position (+ token-type) embeddings on the CPU backend against a double-precision Java
 * reference, for the three table layouts (BERT: all three, GPT-2: token + position, token only).
 * The backward is checked against the reference and against the adjoint identity
 * sum(forward(W) * dout) = sum(W * backward(dout)) (the op is linear in its tables, so this is
 * exactly what finite differences would measure). Tolerances: forward F32 rtol 1e-6, BF16 2^-8,
 * F16 2^-11 (one rounding of an fp32 sum), atol 1e-6; table gradients (F32) atol/rtol 1e-5.
 */
class EmbeddingKernelTest extends CpuBackendTest {
  @AfterEach
  void releaseTensors() {
    arena.reset();
  }

  /** Which tables a model has. */
  enum Layout {
    TOKEN_POSITION_TYPE, TOKEN_POSITION, TOKEN_ONLY;

    boolean positions() {
      return this != TOKEN_ONLY;
    }

    boolean types() {
      return this == TOKEN_POSITION_TYPE;
    }
  }

  static double forwardRtol(DType dt) {
    return switch (dt) {
      case BF16 -> 1.0 / 256;
      case F16 -> 1.0 / 2048;
      default -> 1e-6;
    };
  }

  /** One embedding problem: sizes, ids and tables (host copies, already rounded to the storage type). */
  static final class Problem {
    final int b;
    final int t;
    final int c;
    final int v;
    final int p;
    final int tt = 2;
    final int posOffset;
    final int[] ids;
    final int[] typeIds;
    final float[] wte;
    final float[] wpe;
    final float[] wtt;

    Problem(long seed, DType dt, Layout layout, int b, int t, int c, int v, int posOffset) {
      this.b = b;
      this.t = t;
      this.c = c;
      this.v = v;
      this.p = posOffset + t + 3;
      this.posOffset = posOffset;
      ids = randomInts(seed, b * t, v);
      typeIds = layout.types() ? randomInts(seed + 1, b * t, tt) : null;
      wte = roundTo(dt, randomFloats(seed + 2, v * c, 1));
      wpe = layout.positions() ? roundTo(dt, randomFloats(seed + 3, p * c, 1)) : null;
      wtt = layout.types() ? roundTo(dt, randomFloats(seed + 4, tt * c, 1)) : null;
    }

    double[] forwardRef() {
      double[] out = new double[b * t * c];
      for (int n = 0; n < b * t; n++) {
        for (int j = 0; j < c; j++) {
          double s = wte[ids[n] * c + j];
          if (wpe != null) {
            s += wpe[(posOffset + n % t) * c + j];
          }
          if (wtt != null) {
            s += wtt[typeIds[n] * c + j];
          }
          out[n * c + j] = s;
        }
      }
      return out;
    }

    /** {dwte, dwpe, dwtt} (null where the table is absent) = start + the gradient of dout. */
    double[][] backwardRef(float[] dout, float[][] start) {
      double[][] grads = new double[3][];
      int[] rows = {v, p, tt};
      for (int k = 0; k < 3; k++) {
        if (start[k] != null) {
          grads[k] = new double[rows[k] * c];
          for (int i = 0; i < grads[k].length; i++) {
            grads[k][i] = start[k][i];
          }
        }
      }
      for (int n = 0; n < b * t; n++) {
        for (int j = 0; j < c; j++) {
          grads[0][ids[n] * c + j] += dout[n * c + j];
          if (grads[1] != null) {
            grads[1][(posOffset + n % t) * c + j] += dout[n * c + j];
          }
          if (grads[2] != null) {
            grads[2][typeIds[n] * c + j] += dout[n * c + j];
          }
        }
      }
      return grads;
    }
  }

  /** Device copies of a problem's ids and tables. */
  static final class Uploaded {
    final Tensor ids;
    final Tensor typeIds;
    final Tensor wte;
    final Tensor wpe;
    final Tensor wtt;

    Uploaded(Problem q, DType dt) {
      ids = i32(backend, arena, q.ids, q.b, q.t);
      typeIds = q.typeIds == null ? null : i32(backend, arena, q.typeIds, q.b, q.t);
      wte = floats(backend, arena, dt, q.wte, q.v, q.c);
      wpe = q.wpe == null ? null : floats(backend, arena, dt, q.wpe, q.p, q.c);
      wtt = q.wtt == null ? null : floats(backend, arena, dt, q.wtt, q.tt, q.c);
    }
  }

  static Tensor f32OrNull(float[] values, long rows, long cols) {
    return values == null ? null : f32(backend, arena, values, rows, cols);
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
  void forwardAndBackwardMatchReference(DType dt) {
    for (Layout layout : Layout.values()) {
      for (int t : KernelTestSupport.ODD_AND_EVEN_SIZES) {
        for (int c : KernelTestSupport.ODD_AND_EVEN_SIZES) {
          arena.reset();
          String at = dt + " " + layout + " T=" + t + " C=" + c;
          Problem q = new Problem(31L * t + c, dt, layout, 2, t, c, 33, 2);
          Uploaded u = new Uploaded(q, dt);
          Tensor out = arena.allocate(dt, q.b, q.t, q.c);
          backend.embeddingForward(out, u.ids, u.typeIds, u.wte, u.wpe, u.wtt, q.posOffset);
          assertClose("forward " + at, q.forwardRef(), backend.downloadFloats(out), 1e-6, forwardRtol(dt));

          float[] dout = roundTo(dt, randomFloats(7L * t + c, q.b * q.t * q.c, 1));
          float[][] start = {randomFloats(1, q.v * q.c, 1), q.wpe == null ? null : randomFloats(2, q.p * q.c, 1),
              q.wtt == null ? null : randomFloats(3, q.tt * q.c, 1)};
          Tensor dwte = f32(backend, arena, start[0], q.v, q.c);
          Tensor dwpe = f32OrNull(start[1], q.p, q.c);
          Tensor dwtt = f32OrNull(start[2], q.tt, q.c);
          backend.embeddingBackward(dwte, dwpe, dwtt, floats(backend, arena, dt, dout, q.b, q.t, q.c), u.ids,
              u.typeIds, q.posOffset);
          double[][] ref = q.backwardRef(dout, start);
          assertClose("dwte += " + at, ref[0], backend.downloadFloats(dwte), 1e-5, 1e-5);
          if (dwpe != null) {
            assertClose("dwpe += " + at, ref[1], backend.downloadFloats(dwpe), 1e-5, 1e-5);
          }
          if (dwtt != null) {
            assertClose("dwtt += " + at, ref[2], backend.downloadFloats(dwtt), 1e-5, 1e-5);
          }
        }
      }
    }
  }

  @Test
  void backwardIsTheAdjointOfTheForward() {
    Problem q = new Problem(77, DType.F32, Layout.TOKEN_POSITION_TYPE, 3, 9, 11, 4, 5);
    Uploaded u = new Uploaded(q, DType.F32);
    Tensor out = arena.allocate(DType.F32, q.b, q.t, q.c);
    backend.embeddingForward(out, u.ids, u.typeIds, u.wte, u.wpe, u.wtt, q.posOffset);
    float[] dout = randomFloats(78, q.b * q.t * q.c, 1);
    Tensor dwte = arena.zeros(DType.F32, q.v, q.c);
    Tensor dwpe = arena.zeros(DType.F32, q.p, q.c);
    Tensor dwtt = arena.zeros(DType.F32, q.tt, q.c);
    backend.embeddingBackward(dwte, dwpe, dwtt, f32(backend, arena, dout, q.b, q.t, q.c), u.ids, u.typeIds,
        q.posOffset);
    double lhs = dot(backend.downloadFloats(out), dout);
    double rhs = dot(q.wte, backend.downloadFloats(dwte)) + dot(q.wpe, backend.downloadFloats(dwpe))
        + dot(q.wtt, backend.downloadFloats(dwtt));
    assertEquals(lhs, rhs, 1e-5 * (1 + Math.abs(lhs)), "<forward(W), dout> != <W, backward(dout)>");
  }

  static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (double) a[i] * b[i];
    }
    return s;
  }

  @Test
  void backwardIsBitIdenticalForAnyThreadCount() {
    Problem q = new Problem(91, DType.F32, Layout.TOKEN_POSITION_TYPE, 4, 64, 100, 5, 0);
    Uploaded u = new Uploaded(q, DType.F32);
    Tensor dout = f32(backend, arena, randomFloats(92, q.b * q.t * q.c, 1), q.b, q.t, q.c);
    byte[][] one = backwardWithThreads(1, q, u, dout);
    byte[][] three = backwardWithThreads(3, q, u, dout);
    for (int k = 0; k < 3; k++) {
      assertArrayEquals(one[k], three[k], "table gradient " + k + " depends on the thread count");
    }
  }

  private byte[][] backwardWithThreads(int threads, Problem q, Uploaded u, Tensor dout) {
    int saved = CpuBackend.threads();
    try {
      CpuBackend.setThreads(threads);
      Tensor dwte = arena.zeros(DType.F32, q.v, q.c);
      Tensor dwpe = arena.zeros(DType.F32, q.p, q.c);
      Tensor dwtt = arena.zeros(DType.F32, q.tt, q.c);
      backend.embeddingBackward(dwte, dwpe, dwtt, dout, u.ids, u.typeIds, q.posOffset);
      return new byte[][] {backend.downloadBytes(dwte), backend.downloadBytes(dwpe), backend.downloadBytes(dwtt)};
    } finally {
      CpuBackend.setThreads(saved);
    }
  }

  @Test
  void idsOutOfRangeAreRejectedBeforeAnythingIsWritten() {
    Problem q = new Problem(5, DType.F32, Layout.TOKEN_POSITION_TYPE, 2, 3, 4, 5, 0);
    Uploaded u = new Uploaded(q, DType.F32);
    float[] sentinel = new float[q.b * q.t * q.c];
    Arrays.fill(sentinel, 42f);
    Tensor out = f32(backend, arena, sentinel, q.b, q.t, q.c);
    Tensor badIds = i32(backend, arena, new int[] {0, 1, 2, 3, 4, 5}, q.b, q.t);
    NativeException e = assertThrows(NativeException.class,
        () -> backend.embeddingForward(out, badIds, u.typeIds, u.wte, u.wpe, u.wtt, 0));
    assertEquals("lmt_embedding_forward: ids[b=1, t=2] = 5 is out of range for the token table (V = 5)",
        e.getMessage());
    assertEquals(1, e.status());
    assertArrayEquals(sentinel, backend.downloadFloats(out), "out was written before the id check");

    Tensor badTypes = i32(backend, arena, new int[] {0, 1, 0, -1, 0, 0}, q.b, q.t);
    e = assertThrows(NativeException.class,
        () -> backend.embeddingForward(out, u.ids, badTypes, u.wte, u.wpe, u.wtt, 0));
    assertEquals("lmt_embedding_forward: type_ids[b=1, t=0] = -1 is out of range for the token-type table (TT = 2)",
        e.getMessage());

    float[] gradStart = new float[q.v * q.c];
    Arrays.fill(gradStart, 42f);
    Tensor dwte = f32(backend, arena, gradStart, q.v, q.c);
    Tensor dout = f32(backend, arena, randomFloats(6, q.b * q.t * q.c, 1), q.b, q.t, q.c);
    e = assertThrows(NativeException.class, () -> backend.embeddingBackward(dwte, null, null, dout, badIds, null, 0));
    assertEquals("lmt_embedding_backward: ids[b=1, t=2] = 5 is out of range for the token table (V = 5)",
        e.getMessage());
    assertArrayEquals(gradStart, backend.downloadFloats(dwte), "dwte was written before the id check");
  }

  @Test
  void shapeMismatchesGiveClearExceptions() {
    Problem q = new Problem(8, DType.F32, Layout.TOKEN_POSITION, 2, 3, 4, 5, 0);
    Uploaded u = new Uploaded(q, DType.F32);
    Tensor out = arena.allocate(DType.F32, q.b, q.t, q.c);
    Tensor narrowWte = arena.allocate(DType.F32, q.v, q.c - 1);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> backend.embeddingForward(out, u.ids, null, narrowWte, u.wpe, null, 0));
    assertTrue(e.getMessage().startsWith("embeddingForward: wte must be (rows, 4) F32"), e.getMessage());
    Tensor shortIds = i32(backend, arena, new int[] {0, 1, 2}, 3);
    e = assertThrows(IllegalArgumentException.class,
        () -> backend.embeddingForward(out, shortIds, null, u.wte, u.wpe, null, 0));
    assertTrue(e.getMessage().startsWith("embeddingForward: ids must have 6 I32 elements"), e.getMessage());
    Tensor bf16Grad = arena.allocate(DType.BF16, q.v, q.c);
    e = assertThrows(IllegalArgumentException.class,
        () -> backend.embeddingBackward(bf16Grad, null, null, out, u.ids, null, 0));
    assertTrue(e.getMessage().startsWith("embeddingBackward: wte must be (rows, 4) F32"), e.getMessage());
    NativeException ne = assertThrows(NativeException.class,
        () -> backend.embeddingForward(out, u.ids, null, u.wte, u.wpe, null, q.p - 2));
    assertEquals("lmt_embedding_forward: positions 4..6 exceed the position table (P = 6, max_position_embeddings)",
        ne.getMessage());
  }
}
