package ai.lmtrain.layers;

import static ai.lmtrain.tensor.KernelTestSupport.assertClose;
import static ai.lmtrain.tensor.KernelTestSupport.floats;
import static ai.lmtrain.tensor.KernelTestSupport.i32;
import static ai.lmtrain.tensor.KernelTestSupport.randomFloats;
import static ai.lmtrain.tensor.KernelTestSupport.randomInts;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.CpuBackendTest;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.ParameterStore;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The chunked, fused LM head + cross-entropy against the unfused computation it replaces (logits of
 * every row over the real vocabulary, cross-entropy, then the two backward products), for chunks of
 * 1, 7 and all rows, with ignored rows, with and without row weights and output bias, in every
 * storage type. Tolerances: loss rtol 1e-6 (chunk sums rounded once each); parameter gradients
 * (fp32) 1e-5 of the tensor's largest entry (rows summed in another grouping); dh F32 1e-5 of its
 * largest entry, BF16 / F16 one rounding (2^-8 / 2^-11 relative) plus 1e-3 / 1e-4 of the largest
 * entry (the product over the padded vocabulary is blocked differently before that rounding);
 * predictions, inference logits and the zero gradients of the padding rows exactly.
 */
class LmHeadTest extends CpuBackendTest {
  private static final int ROWS = 29;
  private static final int HIDDEN = 24;
  private static final int VOCAB = 200;
  private static final int PADDED = 256;
  private static final int IGNORE = -100;
  private static final float GRAD_SCALE = 0.3f;

  private static ParameterStore store(DType dt, boolean withBias) {
    ParameterTable table = new ParameterTable().addPadded("emb", true, PADDED, VOCAB, HIDDEN);
    if (withBias) {
      table.addPadded("bias", false, PADDED, VOCAB);
    }
    ParameterStore store = new ParameterStore(backend, table, dt);
    store.setMaster("emb", randomFloats(1, VOCAB * HIDDEN, 0.5));
    if (withBias) {
      store.setMaster("bias", randomFloats(2, VOCAB, 1));
    }
    return store;
  }

  /** What the unfused computation gives: loss_sum, dh (M, E), dW (V, E), db (V), predictions (M), logits (M, V). */
  private record Unfused(float lossSum, float[] dh, float[] dw, float[] db, int[] predictions, float[] logits) {}

  private static Unfused unfused(ParameterStore store, boolean withBias, Tensor h, Tensor labels, Tensor weights) {
    Backend be = backend;
    DType dt = store.computeType();
    Tensor w = store.param("emb");
    Tensor logits = arena.allocate(dt, ROWS, VOCAB);
    be.matmul(logits, h, w, withBias ? store.param("bias") : null, false, true, 1f, 0f);
    float[] logitValues = be.downloadFloats(logits);
    Tensor lossSum = arena.allocate(DType.F32, 1);
    Tensor predictions = arena.allocate(DType.I32, ROWS);
    be.softmaxCrossEntropy(lossSum, null, predictions, logits, logits, VOCAB, labels, weights, IGNORE, GRAD_SCALE);
    Tensor dw = arena.zeros(DType.F32, VOCAB, HIDDEN);
    be.matmul(dw, logits, h, null, true, false, 1f, 1f);
    Tensor db = arena.zeros(DType.F32, VOCAB);
    be.biasGrad(db, logits);
    Tensor dh = arena.allocate(dt, ROWS, HIDDEN);
    be.matmul(dh, logits, w, null, false, false, 1f, 0f);
    return new Unfused(be.downloadFloats(lossSum)[0], be.downloadFloats(dh), be.downloadFloats(dw),
        be.downloadFloats(db), be.downloadInts(predictions), logitValues);
  }

  private static double maxAbs(float[] x) {
    double m = 0;
    for (float v : x) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
  void chunkedEqualsUnfusedForEveryChunkSize(DType dt) {
    int[] labels = randomInts(3, ROWS, VOCAB);
    for (int i = 2; i < ROWS; i += 3) {
      labels[i] = IGNORE;
    }
    float[] weights = randomFloats(4, ROWS, 1);
    for (int i = 0; i < ROWS; i++) {
      weights[i] = 0.25f + Math.abs(weights[i]);
    }
    for (boolean withBias : new boolean[] {false, true}) {
      for (boolean weighted : new boolean[] {false, true}) {
        try (ParameterStore store = store(dt, withBias)) {
          arena.reset();
          Tensor h = floats(backend, arena, dt, randomFloats(5, ROWS * HIDDEN, 2), ROWS, HIDDEN);
          Tensor tlabels = i32(backend, arena, labels, ROWS);
          Tensor tweights = weighted ? floats(backend, arena, DType.F32, weights, ROWS) : null;
          Unfused ref = unfused(store, withBias, h, tlabels, tweights);
          LmHead head = new LmHead("emb", withBias ? "bias" : null, VOCAB, PADDED, IGNORE);
          for (int chunk : new int[] {1, 7, ROWS}) {
            String at = dt + (withBias ? " bias" : "") + (weighted ? " weighted" : "") + " chunk " + chunk;
            head.setChunkBytes((long) chunk * PADDED * dt.bytes());
            assertEquals(chunk, head.chunkRows(new Pass(store, arena, true, 0, 0), ROWS), at);
            store.zeroGrads();
            LmHead.Loss out = head.loss(new Pass(store, arena, true, 0, 0), h, tlabels, tweights, GRAD_SCALE, true,
                true);

            assertClose("loss " + at, new float[] {ref.lossSum()}, backend.downloadFloats(out.lossSum()), 0, 1e-6);
            assertArrayEquals(ref.predictions(), backend.downloadInts(out.predictions()), "predictions " + at);
            double dhScale = maxAbs(ref.dh());
            double dhAtol = switch (dt) {
              case BF16 -> 1e-3;
              case F16 -> 1e-4;
              default -> 1e-5;
            };
            double dhRtol = switch (dt) {
              case BF16 -> 1.0 / 256;
              case F16 -> 1.0 / 2048;
              default -> 0;
            };
            assertClose("dh " + at, ref.dh(), backend.downloadFloats(out.dh()), dhAtol * dhScale, dhRtol);
            assertClose("dW " + at, ref.dw(), backend.downloadFloats(store.grad("emb")), 1e-5 * maxAbs(ref.dw()), 0);
            assertPaddingIsZero("dW padding rows " + at, backend.downloadFloats(store.paddedGrad("emb")),
                VOCAB * HIDDEN);
            if (withBias) {
              assertClose("db " + at, ref.db(), backend.downloadFloats(store.grad("bias")), 1e-5 * maxAbs(ref.db()), 0);
              assertPaddingIsZero("db padding " + at, backend.downloadFloats(store.paddedGrad("bias")), VOCAB);
            }
            float[][] logits = head.logits(Pass.inference(store, arena), h);
            for (int i = 0; i < ROWS; i++) {
              float[] expected = new float[VOCAB];
              System.arraycopy(ref.logits(), i * VOCAB, expected, 0, VOCAB);
              assertArrayEquals(expected, logits[i], "inference logits of row " + i + " " + at);
            }
          }
        }
      }
    }
  }

  private static void assertPaddingIsZero(String what, float[] padded, int realElements) {
    for (int i = realElements; i < padded.length; i++) {
      assertEquals(0f, padded[i], what + " at element " + i);
    }
  }
}
