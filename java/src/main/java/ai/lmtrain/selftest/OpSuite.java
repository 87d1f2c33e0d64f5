package ai.lmtrain.selftest;

import static ai.lmtrain.selftest.Fill.randomInts;
import static ai.lmtrain.selftest.Fill.symmetric;
import static ai.lmtrain.selftest.Fill.uniform;
import static ai.lmtrain.selftest.Fill.unset;
import static ai.lmtrain.tensor.DType.BF16;
import static ai.lmtrain.tensor.DType.F16;
import static ai.lmtrain.tensor.DType.F32;
import static ai.lmtrain.tensor.DType.I32;
import static ai.lmtrain.tensor.DType.I64;
import static ai.lmtrain.tensor.DType.U8;

import ai.lmtrain.selftest.Tolerance.Kind;
import ai.lmtrain.tensor.AdamWParams;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.GeluKind;
import ai.lmtrain.tensor.PointwiseLoss;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The catalogue of op-comparison cases: every kernel of {@link ai.lmtrain.tensor.Backend}, in each
 * activation type it supports (F32, BF16, F16), on odd and even sizes and every layout and flag
 * that selects a different code path (transposes, bias, accumulation, causal and padded attention,
 * head dims 32/64/128, ignore_index, in-place outputs, optional tables, work copies). Building the
 * list is cheap; tensor data is drawn only when a case runs.
 */
public final class OpSuite {
  private static final DType[] FLOAT_TYPES = {F32, BF16, F16};
  private static final int IGNORE_INDEX = -100;
  private static final long SEED = 1234;
  private static final long OFFSET = 777;

  private OpSuite() {}

  /** Every case, grouped by op. */
  public static List<OpCase> all() {
    List<OpCase> cases = new ArrayList<>();
    matmul(cases);
    biasGrad(cases);
    layerNorm(cases);
    gelu(cases);
    tanh(cases);
    attention(cases);
    softmaxCrossEntropy(cases);
    embedding(cases);
    adamw(cases);
    dropout(cases);
    gatherRows(cases);
    pointwiseLoss(cases);
    elementwise(cases);
    return cases;
  }

  /** The names of the ops covered (the {@link ai.lmtrain.tensor.Backend} method names). */
  public static SortedSet<String> opNames() {
    SortedSet<String> names = new TreeSet<>();
    all().forEach(c -> names.add(c.op()));
    return names;
  }

  /** The cases of the named ops; an unknown name is an {@link IllegalArgumentException} listing the known ones. */
  public static List<OpCase> ofOps(Collection<String> ops) {
    SortedSet<String> known = opNames();
    for (String op : ops) {
      if (!known.contains(op)) {
        throw new IllegalArgumentException("unknown op '" + op + "' (expected one of " + String.join(", ", known) + ")");
      }
    }
    return all().stream().filter(c -> ops.contains(c.op())).toList();
  }

  // ---------------------------------------------------------------- matmul, bias grad

  private static void matmul(List<OpCase> cases) {
    int[][] mnk = {{1, 1, 1}, {33, 31, 127}, {64, 64, 64}, {127, 257, 96}, {300, 520, 200}};
    for (DType dt : FLOAT_TYPES) {
      for (int[] s : mnk) {
        for (boolean ta : new boolean[] {false, true}) {
          for (boolean tb : new boolean[] {false, true}) {
            cases.add(matmulCase(dt, dt, s[0], s[1], s[2], ta, tb, false, 1f, 0f));
          }
        }
      }
      cases.add(matmulCase(dt, dt, 33, 31, 127, false, true, true, 0.5f, 0f));
      cases.add(matmulCase(dt, dt, 65, 47, 33, false, false, true, 1f, 1f));
      if (dt != F32) { // a weight gradient accumulated into the fp32 gradient buffer
        cases.add(matmulCase(dt, F32, 127, 96, 65, true, false, false, 1f, 1f));
        hopperMatmul(cases, dt);
      }
    }
  }

  /**
   * 16-bit shapes that the CUDA backend runs on its Hopper kernel (on an H100: M, N >= 128, K >= 64,
   * leading dimensions multiples of 8; see native/cuda/matmul_sm90.cu): whole and partial 128 x 256
   * tiles in every layout, a k tail of 8, 64-wide m / n boxes that lie wholly outside the matrix, an
   * odd N (single-column stores), bias with alpha and beta, and the fp32 weight-gradient update with
   * K not a multiple of 8 (both operands m / n contiguous). The long-K cases have too few output
   * tiles to fill an H100/H200, so they run split over K (a workspace of partial sums, then the
   * reduce that applies alpha, beta and the bias): one tile in 8 splits, and 9 partial tiles in 5.
   */
  private static void hopperMatmul(List<OpCase> cases, DType dt) {
    int[][] mnk = {{256, 384, 192}, {296, 136, 136}};
    for (int[] s : mnk) {
      for (boolean ta : new boolean[] {false, true}) {
        for (boolean tb : new boolean[] {false, true}) {
          cases.add(matmulCase(dt, dt, s[0], s[1], s[2], ta, tb, false, 1f, 0f));
        }
      }
    }
    cases.add(matmulCase(dt, dt, 160, 1001, 128, false, true, true, 0.5f, 0f));
    cases.add(matmulCase(dt, dt, 256, 384, 192, false, false, true, 0.5f, 1f));
    cases.add(matmulCase(dt, F32, 200, 264, 300, true, false, false, 1f, 1f));
    cases.add(matmulCase(dt, dt, 128, 256, 4096, false, false, false, 1f, 0f));
    cases.add(matmulCase(dt, dt, 256, 384, 2048, true, true, false, 1f, 0f));
    cases.add(matmulCase(dt, dt, 300, 520, 3000, false, true, true, 0.5f, 0f));
    cases.add(matmulCase(dt, F32, 300, 520, 3000, true, false, false, 1f, 1f));
  }

  /** c (M, N) cDt = alpha op(a) op(b) + beta c (+ bias); c starts unset when beta = 0 (never read). */
  private static OpCase matmulCase(DType dt, DType cDt, long m, long n, long k, boolean ta, boolean tb,
      boolean bias, float alpha, float beta) {
    String name = "M=" + m + " N=" + n + " K=" + k + " " + (ta ? "T" : "N") + (tb ? "T" : "N")
        + (bias ? " bias" : "") + (alpha != 1 ? " alpha=" + alpha : "") + (beta != 0 ? " beta=" + beta : "")
        + (cDt != dt ? " c=" + cDt : "");
    OpCase.Builder b = OpCase.of("matmul", dt, name, Kind.CONTRACTION)
        .in("a", dt, symmetric(1), ta ? new long[] {k, m} : new long[] {m, k})
        .in("b", dt, symmetric(1), tb ? new long[] {n, k} : new long[] {k, n})
        .out("c", cDt, beta == 0 ? unset() : symmetric(1), m, n);
    if (bias) {
      b.in("bias", cDt, symmetric(1), n);
    }
    return b.run((be, t) -> be.matmul(t.get("c"), t.get("a"), t.get("b"), bias ? t.get("bias") : null, ta, tb, alpha,
        beta));
  }

  private static void biasGrad(List<OpCase> cases) {
    long[][] shapes = {{1, 1}, {33, 127}, {257, 769}};
    for (DType dt : FLOAT_TYPES) {
      for (long[] s : shapes) {
        cases.add(OpCase.of("biasGrad", dt, "M=" + s[0] + " N=" + s[1] + " accumulate", Kind.REDUCTION)
            .in("dy", dt, symmetric(1), s[0], s[1])
            .out("dbias", F32, symmetric(1), s[1])
            .run((be, t) -> be.biasGrad(t.get("dbias"), t.get("dy"))));
      }
    }
  }

  // ---------------------------------------------------------------- layer norm

  private static void layerNorm(List<OpCase> cases) {
    long[][] shapes = {{1, 33}, {31, 127}, {64, 768}, {5, 1025}};
    for (DType dt : FLOAT_TYPES) {
      for (long[] s : shapes) {
        cases.add(layerNormCase(dt, s[0], s[1], false));
        cases.add(layerNormCase(dt, s[0], s[1], true));
      }
    }
  }

  /** Forward; with {@code backward} also the backward from the forward's statistics (dweight, dbias accumulate). */
  private static OpCase layerNormCase(DType dt, long n, long c, boolean backward) {
    float eps = 1e-5f;
    OpCase.Builder b = OpCase.of(backward ? "layerNormBackward" : "layerNormForward", dt, "N=" + n + " C=" + c,
            Kind.REDUCTION)
        .in("x", dt, uniform(-1, 3), n, c)
        .in("weight", dt, uniform(0.5, 1.5), c)
        .in("bias", dt, symmetric(0.5), c)
        .out("out", dt, unset(), n, c)
        .out("mean", F32, unset(), n)
        .out("rstd", F32, unset(), n);
    if (!backward) {
      return b.run((be, t) -> be.layerNormForward(t.get("out"), t.get("mean"), t.get("rstd"), t.get("x"),
          t.get("weight"), t.get("bias"), eps));
    }
    return b.in("dout", dt, symmetric(1), n, c)
        .out("dx", dt, unset(), n, c)
        .out("dweight", F32, symmetric(1), c)
        .out("dbias", F32, symmetric(1), c)
        .run((be, t) -> {
          be.layerNormForward(t.get("out"), t.get("mean"), t.get("rstd"), t.get("x"), t.get("weight"), t.get("bias"),
              eps);
          be.layerNormBackward(t.get("dx"), t.get("dweight"), t.get("dbias"), t.get("dout"), t.get("x"),
              t.get("weight"), t.get("mean"), t.get("rstd"));
        });
  }

  // ---------------------------------------------------------------- gelu

  private static void gelu(List<OpCase> cases) {
    int[] sizes = {1, 33, 4097, 100_003};
    for (DType dt : FLOAT_TYPES) {
      for (GeluKind kind : GeluKind.values()) {
        for (int n : sizes) {
          String name = kind + " n=" + n;
          cases.add(OpCase.of("gelu", dt, name, Kind.ELEMENTWISE)
              .in("x", dt, symmetric(5), n)
              .out("out", dt, unset(), n)
              .run((be, t) -> be.gelu(t.get("out"), t.get("x"), kind)));
          cases.add(OpCase.of("geluBackward", dt, name, Kind.ELEMENTWISE)
              .in("x", dt, symmetric(5), n)
              .in("dout", dt, symmetric(1), n)
              .out("dx", dt, unset(), n)
              .run((be, t) -> be.geluBackward(t.get("dx"), t.get("x"), t.get("dout"), kind)));
        }
        cases.add(OpCase.of("geluBackward", dt, kind + " n=1001 in place (dx = dout)", Kind.ELEMENTWISE)
            .in("x", dt, symmetric(5), 1001)
            .out("dout", dt, symmetric(1), 1001)
            .run((be, t) -> be.geluBackward(t.get("dout"), t.get("x"), t.get("dout"), kind)));
      }
    }
  }

  // ---------------------------------------------------------------- tanh

  private static void tanh(List<OpCase> cases) {
    for (DType dt : FLOAT_TYPES) {
      for (int n : new int[] {1, 33, 100_003}) {
        cases.add(OpCase.of("tanh", dt, "n=" + n, Kind.ELEMENTWISE)
            .in("x", dt, symmetric(4), n)
            .out("out", dt, unset(), n)
            .run((be, t) -> be.tanh(t.get("out"), t.get("x"))));
        cases.add(OpCase.of("tanhBackward", dt, "n=" + n, Kind.ELEMENTWISE)
            .in("y", dt, symmetric(1), n)
            .in("dout", dt, symmetric(1), n)
            .out("dx", dt, unset(), n)
            .run((be, t) -> be.tanhBackward(t.get("dx"), t.get("y"), t.get("dout"))));
      }
      cases.add(OpCase.of("tanhBackward", dt, "n=1001 in place (dx = dout)", Kind.ELEMENTWISE)
          .in("y", dt, symmetric(1), 1001)
          .out("dout", dt, symmetric(1), 1001)
          .run((be, t) -> be.tanhBackward(t.get("dout"), t.get("y"), t.get("dout"))));
    }
  }

  // ---------------------------------------------------------------- attention

  /**
   * Which keys a case pads: none, a growing tail per sequence, a growing head per sequence (causal
   * queries before the first real key then see only padded keys and, as in Hugging Face, attend
   * uniformly over them and the later real keys), or every key of the last sequence.
   */
  private enum Padding {
    NONE,
    TAIL,
    HEAD,
    ALL_OF_LAST_SEQUENCE
  }

  private static void attention(List<OpCase> cases) {
    for (DType dt : FLOAT_TYPES) {
      for (boolean backward : new boolean[] {false, true}) {
        for (int hd : new int[] {32, 64, 128}) {
          cases.add(attentionCase(dt, backward, 2, 77, 2, hd, true, Padding.NONE, 0f));
          cases.add(attentionCase(dt, backward, 3, 129, 2, hd, false, Padding.TAIL, 0f));
        }
        cases.add(attentionCase(dt, backward, 3, 40, 3, 64, true, Padding.TAIL, 0f));
        cases.add(attentionCase(dt, backward, 3, 40, 2, 64, true, Padding.HEAD, 0f));
        // several key and query tiles: queries before the first real key reach real keys in later tiles
        cases.add(attentionCase(dt, backward, 3, 200, 2, 64, true, Padding.HEAD, 0f));
        cases.add(attentionCase(dt, backward, 2, 33, 2, 64, false, Padding.ALL_OF_LAST_SEQUENCE, 0f));
        cases.add(attentionCase(dt, backward, 2, 96, 2, 64, true, Padding.NONE, 0.1f));
      }
    }
  }

  /**
   * Attention forward (out, lse from qkv (B, T, 3C)), or forward then backward (dqkv from dout).
   * With padding, sequence b keeps its first T - b*T/3 keys (TAIL), its last T - b*T/3 keys (HEAD),
   * or none, for the last one (ALL_OF_LAST_SEQUENCE).
   */
  private static OpCase attentionCase(DType dt, boolean backward, int b, int t, int nh, int hd, boolean causal,
      Padding padding, float dropoutP) {
    long c = (long) nh * hd;
    String name = "B=" + b + " T=" + t + " NH=" + nh + " hd=" + hd + (causal ? " causal" : "")
        + switch (padding) {
          case NONE -> "";
          case TAIL -> " padded";
          case HEAD -> " left-padded";
          case ALL_OF_LAST_SEQUENCE -> " one sequence fully padded";
        }
        + (dropoutP > 0 ? " dropout=" + dropoutP : "");
    OpCase.Builder builder = OpCase.of(backward ? "attentionBackward" : "attentionForward", dt, name,
        backward ? Kind.ATTENTION_BACKWARD : Kind.CONTRACTION)
        .in("qkv", dt, symmetric(2), b, t, 3 * c)
        .out("out", dt, unset(), b, t, c)
        .out("lse", F32, unset(), b, nh, t);
    if (padding != Padding.NONE) {
      int[] mask = new int[b * t];
      for (int s = 0; s < b; s++) {
        int kept = padding == Padding.ALL_OF_LAST_SEQUENCE ? (s == b - 1 ? 0 : t) : t - s * t / 3;
        int first = padding == Padding.HEAD ? t - kept : 0;
        for (int i = first; i < first + kept; i++) {
          mask[s * t + i] = 1;
        }
      }
      builder.in("keyMask", I32, Fill.ints(mask), b, t);
    }
    boolean masked = padding != Padding.NONE;
    if (!backward) {
      return builder.run((be, ts) -> be.attentionForward(ts.get("out"), ts.get("lse"), ts.get("qkv"),
          masked ? ts.get("keyMask") : null, nh, causal, dropoutP, SEED, OFFSET));
    }
    return builder.in("dout", dt, symmetric(1), b, t, c)
        .out("dqkv", dt, unset(), b, t, 3 * c)
        .run((be, ts) -> {
          be.attentionForward(ts.get("out"), ts.get("lse"), ts.get("qkv"), masked ? ts.get("keyMask") : null, nh,
              causal, dropoutP, SEED, OFFSET);
          be.attentionBackward(ts.get("dqkv"), ts.get("dout"), ts.get("qkv"), ts.get("out"), ts.get("lse"),
              masked ? ts.get("keyMask") : null, nh, causal, dropoutP, SEED, OFFSET);
        });
  }

  // ---------------------------------------------------------------- softmax cross-entropy

  private static void softmaxCrossEntropy(List<OpCase> cases) {
    int n = 7;
    for (DType dt : FLOAT_TYPES) {
      for (int v : new int[] {1000, 30522, 50257}) {
        cases.add(crossEntropyCase(dt, n, v, CrossEntropyOutputs.ALL, false));
        cases.add(crossEntropyCase(dt, n, v, CrossEntropyOutputs.IN_PLACE, false));
      }
      cases.add(crossEntropyCase(dt, n, 1000, CrossEntropyOutputs.ALL, true));
      cases.add(crossEntropyCase(dt, n, 1000, CrossEntropyOutputs.LOSS_ONLY, false));
      for (CrossEntropyOutputs outputs : List.of(CrossEntropyOutputs.ALL, CrossEntropyOutputs.IN_PLACE)) {
        cases.add(paddedCrossEntropyCase(dt, n, 50257, 50304, outputs)); // GPT-2's vocabulary, padded as stored
        cases.add(paddedCrossEntropyCase(dt, 33, 1000, 1024, outputs));
      }
    }
  }

  /**
   * Logits (N, ld) of which the first V columns are scored (a padded vocabulary), rows 1 and 4
   * ignored, row weights, with every output: loss sum, row losses, argmax predictions and dlogits.
   */
  private static OpCase paddedCrossEntropyCase(DType dt, int n, int v, int ld, CrossEntropyOutputs outputs) {
    boolean inPlace = outputs == CrossEntropyOutputs.IN_PLACE;
    OpCase.Builder b = OpCase.of("softmaxCrossEntropy", dt, "N=" + n + " V=" + v + " ld=" + ld + " ignore_index"
            + " predictions row weights" + (inPlace ? " in place (dlogits = logits)" : ""), Kind.REDUCTION)
        .in("labels", I32, labelsWithIgnoredRows(v), n)
        .in("rowWeight", F32, uniform(0, 2), n)
        .out("lossSum", F32, unset(), 1)
        .out("rowLoss", F32, unset(), n)
        .out("predictions", I32, unset(), n);
    if (inPlace) {
      b.out("logits", dt, symmetric(4), n, ld);
    } else {
      b.in("logits", dt, symmetric(4), n, ld).out("dlogits", dt, unset(), n, ld);
    }
    return b.run((be, t) -> be.softmaxCrossEntropy(t.get("lossSum"), t.get("rowLoss"), t.get("predictions"),
        t.get(inPlace ? "logits" : "dlogits"), t.get("logits"), v, t.get("labels"), t.get("rowWeight"), IGNORE_INDEX,
        1f / (n - 2)));
  }

  /** Labels in [0, v) with rows 1 and 4 set to ignore_index. */
  private static Fill labelsWithIgnoredRows(int v) {
    return (type, numel, random) -> {
      int[] x = new int[numel];
      for (int i = 0; i < numel; i++) {
        x[i] = i == 1 || i == 4 ? IGNORE_INDEX : random.nextInt(v);
      }
      return HostData.encodeInts(x);
    };
  }

  /** Which outputs a cross-entropy case asks for. */
  private enum CrossEntropyOutputs {
    ALL,
    IN_PLACE,
    LOSS_ONLY
  }

  /** Logits (N, V) with labels where rows 1 and 4 are ignore_index; gradScale = 1 / non-ignored rows. */
  private static OpCase crossEntropyCase(DType dt, int n, int v, CrossEntropyOutputs outputs, boolean weighted) {
    String name = "N=" + n + " V=" + v + " ignore_index" + switch (outputs) {
      case ALL -> "";
      case IN_PLACE -> " in place (dlogits = logits)";
      case LOSS_ONLY -> " loss only";
    } + (weighted ? " row weights" : "");
    float gradScale = 1f / (n - 2);
    OpCase.Builder b = OpCase.of("softmaxCrossEntropy", dt, name, Kind.REDUCTION)
        .in("labels", I32, labelsWithIgnoredRows(v), n)
        .out("lossSum", F32, unset(), 1);
    if (outputs == CrossEntropyOutputs.IN_PLACE) {
      b.out("logits", dt, symmetric(4), n, v);
    } else {
      b.in("logits", dt, symmetric(4), n, v);
    }
    if (outputs != CrossEntropyOutputs.LOSS_ONLY) {
      b.out("rowLoss", F32, unset(), n);
    }
    if (outputs == CrossEntropyOutputs.ALL) {
      b.out("dlogits", dt, unset(), n, v);
    }
    if (weighted) {
      b.in("rowWeight", F32, uniform(0, 2), n);
    }
    return b.run((be, t) -> be.softmaxCrossEntropy(t.get("lossSum"),
        outputs == CrossEntropyOutputs.LOSS_ONLY ? null : t.get("rowLoss"),
        switch (outputs) {
          case ALL -> t.get("dlogits");
          case IN_PLACE -> t.get("logits");
          case LOSS_ONLY -> null;
        },
        t.get("logits"), t.get("labels"), weighted ? t.get("rowWeight") : null, IGNORE_INDEX, gradScale));
  }

  // ---------------------------------------------------------------- embeddings

  private static void embedding(List<OpCase> cases) {
    for (DType dt : FLOAT_TYPES) {
      for (boolean backward : new boolean[] {false, true}) {
        cases.add(embeddingCase(dt, backward, 2, 33, 97, 1000, 64, 0, 5)); // GPT-2: wte + wpe, position offset
        cases.add(embeddingCase(dt, backward, 3, 17, 768, 5000, 64, 2, 0)); // BERT: + token types
        cases.add(embeddingCase(dt, backward, 2, 9, 33, 50, 0, 0, 0)); // token table only
      }
    }
  }

  /**
   * out (B, T, C) = wte[ids] (+ wpe[posOffset + t]) (+ wtt[typeIds]); the backward accumulates
   * into F32 tables from ids drawn from 10 values, so many rows collide.
   */
  private static OpCase embeddingCase(DType dt, boolean backward, int b, int t, int c, int v, int p, int tt,
      long posOffset) {
    String name = "B=" + b + " T=" + t + " C=" + c + " V=" + v + (p > 0 ? " P=" + p + " offset=" + posOffset : "")
        + (tt > 0 ? " TT=" + tt : "");
    OpCase.Builder builder = OpCase.of(backward ? "embeddingBackward" : "embeddingForward", dt, name,
            backward ? Kind.REDUCTION : Kind.ELEMENTWISE)
        .in("ids", I32, randomInts(backward ? Math.min(10, v) : v), b, t);
    if (tt > 0) {
      builder.in("typeIds", I32, randomInts(tt), b, t);
    }
    if (!backward) {
      builder.in("wte", dt, symmetric(1), v, c).out("out", dt, unset(), b, t, c);
      if (p > 0) {
        builder.in("wpe", dt, symmetric(1), p, c);
      }
      if (tt > 0) {
        builder.in("wtt", dt, symmetric(1), tt, c);
      }
      return builder.run((be, ts) -> be.embeddingForward(ts.get("out"), ts.get("ids"),
          tt > 0 ? ts.get("typeIds") : null, ts.get("wte"), p > 0 ? ts.get("wpe") : null,
          tt > 0 ? ts.get("wtt") : null, posOffset));
    }
    builder.in("dout", dt, symmetric(1), b, t, c).out("dwte", F32, symmetric(1), v, c);
    if (p > 0) {
      builder.out("dwpe", F32, symmetric(1), p, c);
    }
    if (tt > 0) {
      builder.out("dwtt", F32, symmetric(1), tt, c);
    }
    return builder.run((be, ts) -> be.embeddingBackward(ts.get("dwte"), p > 0 ? ts.get("dwpe") : null,
        tt > 0 ? ts.get("dwtt") : null, ts.get("dout"), ts.get("ids"), tt > 0 ? ts.get("typeIds") : null, posOffset));
  }

  // ---------------------------------------------------------------- AdamW

  private static void adamw(List<OpCase> cases) {
    for (int n : new int[] {1, 1000, 100_003}) {
      cases.add(adamwCase(F32, n, false, n == 1000));
    }
    for (DType dt : FLOAT_TYPES) {
      cases.add(adamwCase(dt, 100_003, true, true));
      cases.add(adamwCase(dt, 33, true, false));
    }
  }

  /** One step (step 3, grad scale 0.5) over n parameters; the case dtype is the work copy's (F32 without one). */
  private static OpCase adamwCase(DType dt, int n, boolean workCopy, boolean decayMask) {
    AdamWParams p = new AdamWParams(1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 3, 0.5f);
    OpCase.Builder b = OpCase.of("adamwStep", dt,
            "n=" + n + (workCopy ? " work copy" : "") + (decayMask ? " decay mask" : ""), Kind.ELEMENTWISE)
        .out("params", F32, symmetric(1), n)
        .out("m", F32, symmetric(0.01), n)
        .out("v", F32, uniform(0, 1e-4), n)
        .in("grads", F32, symmetric(0.01), n);
    if (workCopy) {
      b.out("work", dt, unset(), n);
    }
    if (decayMask) {
      b.in("decayMask", U8, Fill.randomBits(), n);
    }
    return b.run((be, t) -> be.adamwStep(t.get("params"), workCopy ? t.get("work") : null, t.get("m"), t.get("v"),
        t.get("grads"), decayMask ? t.get("decayMask") : null, p));
  }

  // ---------------------------------------------------------------- dropout

  private static void dropout(List<OpCase> cases) {
    for (DType dt : FLOAT_TYPES) {
      for (float p : new float[] {0.1f, 0.5f}) {
        for (int n : new int[] {1, 1001, 100_003}) {
          String name = "n=" + n + " p=" + p;
          cases.add(OpCase.of("dropoutForward", dt, name, Kind.ELEMENTWISE)
              .in("x", dt, symmetric(1), n)
              .out("out", dt, unset(), n)
              .run((be, t) -> be.dropoutForward(t.get("out"), t.get("x"), p, SEED, OFFSET)));
          cases.add(OpCase.of("dropoutBackward", dt, name, Kind.ELEMENTWISE)
              .in("dout", dt, symmetric(1), n)
              .out("dx", dt, unset(), n)
              .run((be, t) -> be.dropoutBackward(t.get("dx"), t.get("dout"), p, SEED, OFFSET)));
        }
      }
      cases.add(OpCase.of("dropoutForward", dt, "n=1001 p=0.1 in place", Kind.ELEMENTWISE)
          .out("x", dt, symmetric(1), 1001)
          .run((be, t) -> be.dropoutForward(t.get("x"), t.get("x"), 0.1f, SEED, OFFSET)));
      cases.add(OpCase.of("dropoutBackward", dt, "n=1001 p=0.1 in place", Kind.ELEMENTWISE)
          .out("dout", dt, symmetric(1), 1001)
          .run((be, t) -> be.dropoutBackward(t.get("dout"), t.get("dout"), 0.1f, SEED, OFFSET)));
    }
  }

  // ---------------------------------------------------------------- row gather

  /** The [CLS] rows b * T of a (B * T, C) batch (B = 5, T = 7), and last tokens in another order. */
  private static void gatherRows(List<OpCase> cases) {
    int[][] rowSets = {{0, 7, 14, 21, 28}, {34, 2, 13, 20, 9}};
    for (DType dt : FLOAT_TYPES) {
      for (int c : new int[] {1, 33, 768}) {
        for (int[] rows : rowSets) {
          String name = "N=35 C=" + c + " rows=" + java.util.Arrays.toString(rows);
          cases.add(OpCase.of("gatherRows", dt, name, Kind.EXACT)
              .in("x", dt, symmetric(2), 35, c)
              .in("rows", I32, Fill.ints(rows), rows.length)
              .out("out", dt, unset(), rows.length, c)
              .run((be, t) -> be.gatherRows(t.get("out"), t.get("x"), t.get("rows"))));
          cases.add(OpCase.of("gatherRowsBackward", dt, name, Kind.EXACT)
              .in("dout", dt, symmetric(2), rows.length, c)
              .in("rows", I32, Fill.ints(rows), rows.length)
              .out("dx", dt, symmetric(1), 35, c) // stale values: every element must be overwritten
              .run((be, t) -> be.gatherRowsBackward(t.get("dx"), t.get("dout"), t.get("rows"))));
        }
      }
    }
  }

  // ---------------------------------------------------------------- pointwise losses

  private static void pointwiseLoss(List<OpCase> cases) {
    for (DType dt : FLOAT_TYPES) {
      for (PointwiseLoss kind : PointwiseLoss.values()) {
        for (int n : new int[] {1, 33, 100_003}) {
          float gradScale = 1f / n;
          cases.add(OpCase.of("pointwiseLoss", dt, kind + " n=" + n, Kind.REDUCTION)
              .in("logits", dt, symmetric(6), n)
              .in("targets", F32, uniform(0, 1), n)
              .out("lossSum", F32, unset(), 1)
              .out("dlogits", dt, unset(), n)
              .run((be, t) -> be.pointwiseLoss(t.get("lossSum"), t.get("dlogits"), t.get("logits"), t.get("targets"),
                  kind, gradScale)));
        }
        cases.add(OpCase.of("pointwiseLoss", dt, kind + " n=1001 in place (dlogits = logits)", Kind.REDUCTION)
            .out("logits", dt, symmetric(6), 1001)
            .in("targets", F32, uniform(0, 1), 1001)
            .out("lossSum", F32, unset(), 1)
            .run((be, t) -> be.pointwiseLoss(t.get("lossSum"), t.get("logits"), t.get("logits"), t.get("targets"),
                kind, 0.5f)));
      }
    }
  }

  // ---------------------------------------------------------------- add, scale, cast, reductions

  private static void elementwise(List<OpCase> cases) {
    int[] sizes = {1, 33, 100_003};
    for (DType dt : FLOAT_TYPES) {
      for (int n : sizes) {
        cases.add(OpCase.of("add", dt, "n=" + n, Kind.ELEMENTWISE)
            .in("a", dt, symmetric(3), n)
            .in("b", dt, symmetric(3), n)
            .out("out", dt, unset(), n)
            .run((be, t) -> be.add(t.get("out"), t.get("a"), t.get("b"))));
        cases.add(OpCase.of("scale", dt, "n=" + n + " alpha=-0.375", Kind.ELEMENTWISE)
            .out("x", dt, symmetric(3), n)
            .run((be, t) -> be.scale(t.get("x"), -0.375f)));
      }
      cases.add(OpCase.of("add", dt, "n=33 in place (out = a)", Kind.ELEMENTWISE)
          .out("a", dt, symmetric(3), 33)
          .in("b", dt, symmetric(3), 33)
          .run((be, t) -> be.add(t.get("a"), t.get("a"), t.get("b"))));
      cases.add(OpCase.of("add", dt, "n=33 in place (out = b)", Kind.ELEMENTWISE)
          .in("a", dt, symmetric(3), 33)
          .out("b", dt, symmetric(3), 33)
          .run((be, t) -> be.add(t.get("b"), t.get("a"), t.get("b"))));
      for (DType src : FLOAT_TYPES) {
        if (src != dt) {
          cases.add(OpCase.of("cast", dt, "from " + src + " n=" + CAST_SPECIALS.length + "+1000 with specials",
                  Kind.EXACT)
              .in("src", src, withSpecials(), CAST_SPECIALS.length + 1000)
              .out("dst", dt, unset(), CAST_SPECIALS.length + 1000)
              .run((be, t) -> be.cast(t.get("dst"), t.get("src"))));
        }
      }
      for (int n : new int[] {1, 4097, 1_000_003}) {
        cases.add(OpCase.of("sumSquares", dt, "n=" + n, Kind.REDUCTION)
            .in("x", dt, symmetric(2), n)
            .out("out", F32, unset(), 1)
            .run((be, t) -> be.sumSquares(t.get("out"), t.get("x"))));
        cases.add(OpCase.of("countNonfinite", dt, "n=" + n + " with NaN and infinities", Kind.EXACT)
            .in("x", dt, nonfiniteEvery(997), n)
            .out("out", I64, unset(), 1)
            .run((be, t) -> be.countNonfinite(t.get("out"), t.get("x"))));
      }
    }
  }

  /** Values that exercise rounding and overflow in casts: ties, f16 overflow and subnormals, NaN, infinities. */
  private static final float[] CAST_SPECIALS = {0f, -0f, 1f, 1.00390625f, 1.01171875f, 1.00048828125f,
      1.00146484375f, 65504f, 65520f, 1e5f, 1e-8f, 6.1e-5f, 3.0e-8f, -3.14159f, 1e38f, -1e38f, Float.NaN,
      Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};

  /** {@link #CAST_SPECIALS} followed by values uniform in [-100, 100). */
  private static Fill withSpecials() {
    return (dtype, numel, random) -> {
      float[] x = new float[numel];
      System.arraycopy(CAST_SPECIALS, 0, x, 0, CAST_SPECIALS.length);
      for (int i = CAST_SPECIALS.length; i < numel; i++) {
        x[i] = (float) (200 * random.nextDouble() - 100);
      }
      return HostData.encodeFloats(dtype, x);
    };
  }

  /** Values uniform in [-1, 1) with NaN, +inf, -inf in turn at every {@code period}-th element (from element 0). */
  private static Fill nonfiniteEvery(int period) {
    float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
    return (dtype, numel, random) -> {
      float[] x = new float[numel];
      for (int i = 0; i < numel; i++) {
        x[i] = i % period == 0 ? specials[i / period % 3] : (float) (2 * random.nextDouble() - 1);
      }
      return HostData.encodeFloats(dtype, x);
    };
  }
}
