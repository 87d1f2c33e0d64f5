package ai.lmtrain.bench;

import ai.lmtrain.models.Gpt2Config;
import ai.lmtrain.models.Gpt2LMHeadModel;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.Backends;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.Device;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tensor.Tensor;
import ai.lmtrain.train.AdamW;
import ai.lmtrain.train.Precision;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code bench kernels}: our CUDA kernels against PyTorch ({@code scripts/bench/torch_kernels.py})
 * at the shapes of one GPT-2 training step (default: GPT-2 124M, 16 x 1024 tokens), bf16:
 * the five Linear GEMMs forward and both backward products (TFLOP/s), causal flash attention
 * forward and backward (TFLOP/s), fused cross-entropy forward+backward, the AdamW step over all
 * parameters and LayerNorm (GB/s and % of the DRAM peak). Every run ends with a device
 * synchronisation.
 */
public final class KernelsSuite implements BenchSuite {
  static final String PEER_SCRIPT = "torch_kernels.py";
  private static final float LN_EPS = 1e-5f;

  private final Gpt2Config model;
  private final int batch;
  private final int seqLen;

  /**
   * @param model the GPT-2 whose shapes are measured
   * @param batch sequences per step
   * @param seqLen tokens per sequence
   */
  public KernelsSuite(Gpt2Config model, int batch, int seqLen) {
    this.model = model;
    this.batch = batch;
    this.seqLen = seqLen;
  }

  /** GPT-2 124M at 16 x 1024 tokens (M = 16384). */
  public static KernelsSuite standard() {
    return new KernelsSuite(Gpt2Config.gpt2Small(), 16, 1024);
  }

  @Override
  public String name() {
    return "kernels";
  }

  @Override
  public String description() {
    return "bf16 CUDA kernels at GPT-2 124M training shapes vs PyTorch";
  }

  @Override
  public List<Device.Kind> deviceKinds() {
    return List.of(Device.Kind.CUDA);
  }

  /** One measured kernel: bandwidth-bound ones also get a "% of peak" row. */
  record KernelCase(String name, Unit unit, double work, boolean bandwidthBound) {}

  private long tokens() {
    return (long) batch * seqLen;
  }

  private int width() {
    return model.nEmbd();
  }

  private int headDim() {
    return model.nEmbd() / model.nHead();
  }

  /** (in, out) of the Linear layers: qkv, attention projection, MLP up and down, LM head. */
  private long[][] linears() {
    long c = width();
    long inner = model.nInner() == null ? 4 * c : model.nInner();
    return new long[][] {{c, 3 * c}, {c, c}, {c, inner}, {inner, c}, {c, model.vocabSize()}};
  }

  /** Per Linear (in, out), as GPT-2's Conv1D: y = x.W, dx = dy.W^T, dW = x^T.dy. */
  List<GemmCase> gemms() {
    List<GemmCase> out = new ArrayList<>();
    long m = tokens();
    for (long[] l : linears()) {
      String shape = l[0] + "->" + l[1];
      out.add(new GemmCase("gemm fwd " + shape, m, l[0], l[1], false, false));
      out.add(new GemmCase("gemm bwd dx " + shape, m, l[1], l[0], false, true));
      out.add(new GemmCase("gemm bwd dW " + shape, l[0], m, l[1], true, false));
    }
    return out;
  }

  private String attentionName(String pass) {
    return "flash-attn " + pass + " B" + batch + " H" + model.nHead() + " T" + seqLen + " d" + headDim() + " causal";
  }

  private String crossEntropyName() {
    return "cross-entropy fwd+bwd " + tokens() + "x" + model.vocabSize();
  }

  private String layerNormName(String pass) {
    return "layernorm " + pass + " " + tokens() + "x" + width();
  }

  private static String adamwName(long parameters) {
    return "adamw step " + parameters + " params";
  }

  /**
   * The cases, with their work: FLOPs (GEMMs; attention 4 B H T^2 d halved for the causal mask
   * forward, 2.5 times that backward) or the bytes the kernel must move at least (cross-entropy:
   * read the bf16 logits, write their bf16 gradient; AdamW: read param, m, v, grad and write
   * param, m, v, all fp32, 28 bytes per parameter; LayerNorm: bf16 x and out forward, x, dout and dx backward).
   */
  List<KernelCase> cases(long adamwParameters) {
    List<KernelCase> out = new ArrayList<>();
    for (GemmCase g : gemms()) {
      out.add(new KernelCase(g.name(), Unit.TFLOP_PER_S, g.flops(), false));
    }
    double attentionFwd = 4.0 * batch * model.nHead() * seqLen * (double) seqLen * headDim() / 2;
    out.add(new KernelCase(attentionName("fwd"), Unit.TFLOP_PER_S, attentionFwd, false));
    out.add(new KernelCase(attentionName("bwd"), Unit.TFLOP_PER_S, 2.5 * attentionFwd, false));
    out.add(new KernelCase(crossEntropyName(), Unit.GB_PER_S, 4.0 * tokens() * model.vocabSize(), true));
    out.add(new KernelCase(adamwName(adamwParameters), Unit.GB_PER_S, 28.0 * adamwParameters, true));
    out.add(new KernelCase(layerNormName("fwd"), Unit.GB_PER_S, 4.0 * tokens() * width(), true));
    out.add(new KernelCase(layerNormName("bwd"), Unit.GB_PER_S, 6.0 * tokens() * width(), true));
    return out;
  }

  /** The peer's spec (see scripts/bench/torch_kernels.py); results come back in seconds per case. */
  ObjectNode peerSpec(ParameterTable parameters, int warmup, int repetitions) {
    ObjectNode spec = JsonNodeFactory.instance.objectNode().put("warmup", warmup).put("repetitions", repetitions)
        .put("dtype", "bfloat16");
    ArrayNode gemm = spec.putArray("gemm");
    gemms().forEach(g -> gemm.add(g.toJson()));
    spec.putObject("attention").put("case_forward", attentionName("fwd")).put("case_backward", attentionName("bwd"))
        .put("batch", batch).put("heads", model.nHead()).put("seq_len", seqLen).put("head_dim", headDim());
    spec.putObject("cross_entropy").put("case", crossEntropyName()).put("rows", tokens())
        .put("vocab", model.vocabSize());
    ObjectNode adamw = spec.putObject("adamw").put("case", adamwName(parameters.parameterCount()))
        .put("lr", TrainCase.LEARNING_RATE).put("weight_decay", TrainCase.WEIGHT_DECAY);
    ArrayNode shapes = adamw.putArray("shapes");
    for (ParameterTable.Entry e : parameters.entries()) {
      ArrayNode shape = shapes.addArray();
      for (long d : e.shape()) {
        shape.add(d);
      }
    }
    spec.putObject("layer_norm").put("case_forward", layerNormName("fwd")).put("case_backward", layerNormName("bwd"))
        .put("rows", tokens()).put("dim", width()).put("eps", LN_EPS);
    return spec;
  }

  /** Median seconds of each of our kernels on {@code backend} (bf16 activations, fp32 statistics and optimizer state). */
  Map<String, Double> measureOurs(Backend backend, LanguageModel gpt2, int warmup, int reps, BenchContext ctx) {
    Map<String, Double> seconds = new LinkedHashMap<>();
    DType bf16 = DType.BF16;
    for (GemmCase g : gemms()) {
      ctx.log("kernels: " + g.name());
      seconds.put(g.name(), g.medianSeconds(backend, bf16, warmup, reps));
    }
    long m = tokens();
    int c = width();
    try (Scratch s = new Scratch(backend, 2)) {
      ctx.log("kernels: attention");
      Tensor qkv = s.uniform(bf16, batch, seqLen, 3L * c);
      Tensor out = s.empty(bf16, batch, seqLen, c);
      Tensor lse = s.empty(DType.F32, batch, model.nHead(), seqLen);
      Tensor dout = s.uniform(bf16, batch, seqLen, c);
      Tensor dqkv = s.empty(bf16, batch, seqLen, 3L * c);
      int heads = model.nHead();
      seconds.put(attentionName("fwd"), Timing.medianSeconds(
          () -> backend.attentionForward(out, lse, qkv, null, heads, true, 0f, 0, 0), warmup, reps, backend::synchronize));
      seconds.put(attentionName("bwd"), Timing.medianSeconds(
          () -> backend.attentionBackward(dqkv, dout, qkv, out, lse, null, heads, true, 0f, 0, 0), warmup, reps,
          backend::synchronize));
    }
    try (Scratch s = new Scratch(backend, 3)) {
      ctx.log("kernels: cross-entropy");
      Tensor logits = s.uniform(bf16, m, model.vocabSize());
      Tensor dlogits = s.empty(bf16, m, model.vocabSize());
      Tensor labels = s.ints(model.vocabSize(), m);
      Tensor lossSum = s.empty(DType.F32, 1);
      seconds.put(crossEntropyName(), Timing.medianSeconds(() -> backend.softmaxCrossEntropy(lossSum, null, dlogits,
          logits, labels, null, -100, 1f / m), warmup, reps, backend::synchronize));
    }
    ctx.log("kernels: adamw");
    gpt2.parameters().zeroGrads();
    try (AdamW adamw = new AdamW(gpt2.parameters(), 0.9f, 0.999f, 1e-8f, (float) TrainCase.WEIGHT_DECAY,
        ParameterTable.Entry::decay)) {
      seconds.put(adamwName(gpt2.parameters().table().parameterCount()), Timing.medianSeconds(
          () -> adamw.step((float) TrainCase.LEARNING_RATE, 1f), warmup, reps, backend::synchronize));
    }
    try (Scratch s = new Scratch(backend, 4)) {
      ctx.log("kernels: layernorm");
      Tensor x = s.uniform(bf16, m, c);
      Tensor y = s.empty(bf16, m, c);
      Tensor dy = s.uniform(bf16, m, c);
      Tensor dx = s.empty(bf16, m, c);
      Tensor weight = s.filled(bf16, 1f, c);
      Tensor bias = s.filled(bf16, 0f, c);
      Tensor dweight = s.filled(DType.F32, 0f, c);
      Tensor dbias = s.filled(DType.F32, 0f, c);
      Tensor mean = s.empty(DType.F32, m);
      Tensor rstd = s.empty(DType.F32, m);
      seconds.put(layerNormName("fwd"), Timing.medianSeconds(
          () -> backend.layerNormForward(y, mean, rstd, x, weight, bias, LN_EPS), warmup, reps, backend::synchronize));
      seconds.put(layerNormName("bwd"), Timing.medianSeconds(
          () -> backend.layerNormBackward(dx, dweight, dbias, dy, x, weight, mean, rstd), warmup, reps,
          backend::synchronize));
    }
    return seconds;
  }

  @Override
  public BenchReport run(BenchContext ctx) {
    Map<String, Double> ours;
    ObjectNode spec;
    GpuPeaks peaks;
    long parameters;
    try (Backend backend = Backends.open(ctx.device());
        Gpt2LMHeadModel gpt2 = new Gpt2LMHeadModel(model, backend, Precision.BF16.computeType())) {
      peaks = GpuPeaks.of(ctx.device().index());
      gpt2.initialize(TrainCase.SEED);
      parameters = gpt2.parameters().table().parameterCount();
      ours = measureOurs(backend, gpt2, ctx.warmup(), ctx.repetitions(), ctx);
      spec = peerSpec(gpt2.parameters().table(), ctx.warmup(), ctx.repetitions());
    }
    ctx.log("kernels: peer " + PEER_SCRIPT);
    PeerScripts.Outcome peer = ctx.peers().run(PEER_SCRIPT, spec, 0, ctx.progress());
    return report(ctx, peaks, cases(parameters), ours, peer);
  }

  /** Rows from measured seconds: the figure of each case, plus % of peak bandwidth for bandwidth-bound ones. */
  BenchReport report(BenchContext ctx, GpuPeaks peaks, List<KernelCase> cases, Map<String, Double> ours,
      PeerScripts.Outcome peer) {
    List<BenchRow> rows = new ArrayList<>();
    for (KernelCase k : cases) {
      double o = ours.getOrDefault(k.name(), Double.NaN);
      double p = peer.value(k.name());
      rows.add(new BenchRow(k.name(), k.unit(), k.unit().of(k.work(), o), k.unit().of(k.work(), p)));
      if (k.bandwidthBound()) {
        rows.add(new BenchRow(k.name(), Unit.PERCENT_OF_PEAK, 100 * k.work() / o / peaks.bytesPerSecond(),
            100 * k.work() / p / peaks.bytesPerSecond()));
      }
    }
    return new BenchReport(name(), "bf16 kernels at GPT-2 shapes (" + tokens() + " tokens, C " + width() + ", V "
        + model.vocabSize() + ") on " + peaks.describe() + "; median of " + ctx.repetitions() + " after "
        + ctx.warmup() + " warm-up runs (filling at least " + Timing.MIN_WARMUP_SECONDS + " s), each synchronised",
        "lmtrain CUDA kernels on " + ctx.device(),
        peer.describe(), List.of(
            "gemm fwd: x.W (Conv1D layout); bwd dx: dy.W^T; bwd dW: x^T.dy; bf16 in and out, fp32 accumulation",
            "flash-attn FLOPs: 4 B H T^2 d / 2 (causal) forward, 2.5x that backward; peer: SDPA flash backend",
            "GB/s count the minimum traffic, the same for both sides (cross-entropy 4 bytes per logit, AdamW 28 bytes"
                + " per parameter (ours also writes the bf16 weight copy), LayerNorm 4 / 6 bytes per element)",
            "% peak: of the DRAM bandwidth 2 x memory clock x bus width"), rows);
  }
}
