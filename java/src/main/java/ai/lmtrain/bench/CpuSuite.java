package ai.lmtrain.bench;

import ai.lmtrain.models.BertConfig;
import ai.lmtrain.models.Gpt2Config;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.CpuBackend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.Device;
import ai.lmtrain.train.Precision;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code bench cpu}: fp32 GEMM throughput and fp32 training-step time of our CPU backend against
 * PyTorch CPU ({@code scripts/bench/torch_cpu.py}) with the same thread count, and for the cases
 * that run in a process of their own (both sides), that process's peak resident set size. Ours is
 * measured first, then the peer, so the two never share the cores.
 */
public final class CpuSuite implements BenchSuite {
  static final String PEER_SCRIPT = "torch_cpu.py";

  private final List<GemmCase> gemms;
  private final List<TrainCase> trains;
  private final List<TrainCase> ownProcessTrains;

  /**
   * A suite over the given cases: {@code trains} run in this process, {@code ownProcessTrains} each
   * in a JVM (ours) and a Python process (the peer) of their own, which also gives their peak RSS.
   */
  public CpuSuite(List<GemmCase> gemms, List<TrainCase> trains, List<TrainCase> ownProcessTrains) {
    this.gemms = List.copyOf(gemms);
    this.trains = List.copyOf(trains);
    this.ownProcessTrains = List.copyOf(ownProcessTrains);
  }

  /** The name of the peak-RSS row of an own-process case (the peer script uses the same). */
  static String peakRssName(String caseName) {
    return caseName + " peak RSS";
  }

  /**
   * The standard cases: square GEMMs, Linear shapes of BERT-base/GPT-2 small (forward x.W^T and
   * a weight gradient dy^T.x), and training steps of the lab's tiny BERT and GPT-2 (2 layers, 128
   * hidden, 2 heads, intermediate 512, vocab 1000, batch 8, seq 64) and of a 6-layer, 384-wide
   * GPT-2 (6 heads, vocab 8000, batch 8, seq 128), all without dropout; and in processes of their
   * own, GPT-2 124M (12 layers, 768 wide, 12 heads, vocab 50257) at batch 2 x 256 and 1 x 1024.
   */
  public static CpuSuite standard() {
    List<GemmCase> gemms = List.of(
        GemmCase.of(512, 512, 512, false, false),
        GemmCase.of(1024, 1024, 1024, false, false),
        GemmCase.of(2048, 768, 768, false, true),
        GemmCase.of(4096, 768, 3072, false, true),
        GemmCase.of(4096, 3072, 768, false, true),
        GemmCase.of(3072, 4096, 768, true, false));
    BertConfig tinyBert = new BertConfig(1000, 128, 2, 2, 512, "gelu", 0.0, 0.0, 64, 2, 0.02, 1e-12, 0, "absolute",
        true);
    Gpt2Config tinyGpt2 = new Gpt2Config(1000, 64, 128, 2, 2, null, "gelu_new", 0.0, 0.0, 0.0, 1e-5, 0.02, true, false,
        null, null, true);
    Gpt2Config gpt2Small = new Gpt2Config(50257, 1024, 768, 12, 12, null, "gelu_new", 0.0, 0.0, 0.0, 1e-5, 0.02, true,
        false, 50256, 50256, true);
    return new CpuSuite(gemms, List.of(
        new TrainCase("train bert 2L-128H B8 T64", tinyBert, 8, 64),
        new TrainCase("train gpt2 2L-128H B8 T64", tinyGpt2, 8, 64),
        sixLayerGpt2()), List.of(
        new TrainCase("train gpt2 124M B2 T256", gpt2Small, 2, 256),
        new TrainCase("train gpt2 124M B1 T1024", gpt2Small, 1, 1024)));
  }

  /** The 6-layer, 384-wide GPT-2 case (6 heads, vocab 8000, batch 8, seq 128, no dropout); also bench dist's. */
  static TrainCase sixLayerGpt2() {
    Gpt2Config config = new Gpt2Config(8000, 128, 384, 6, 6, null, "gelu_new", 0.0, 0.0, 0.0, 1e-5, 0.02, true, false,
        null, null, true);
    return new TrainCase("train gpt2 6L-384H B8 T128", config, 8, 128);
  }

  @Override
  public String name() {
    return "cpu";
  }

  @Override
  public String description() {
    return "fp32 GEMM GFLOP/s and training step time (BERT/GPT-2) vs PyTorch CPU at the same thread count";
  }

  @Override
  public List<Device.Kind> deviceKinds() {
    return List.of(Device.Kind.CPU);
  }

  @Override
  public BenchReport run(BenchContext ctx) {
    if (ctx.threads() > 0) {
      CpuBackend.setThreads(ctx.threads());
    }
    int threads = CpuBackend.threads();
    int steps = ctx.repetitions();
    Map<String, Double> ours = new LinkedHashMap<>();
    Map<String, Double> oursPeakRss = new LinkedHashMap<>();
    ObjectNode spec = JsonNodeFactory.instance.objectNode().put("threads", threads).put("warmup", ctx.warmup())
        .put("repetitions", ctx.repetitions());
    ArrayNode gemmSpecs = spec.putArray("gemm");
    ArrayNode trainSpecs = spec.putArray("train");
    try (Backend backend = new CpuBackend()) {
      for (GemmCase g : gemms) {
        ctx.log("cpu: " + g.name());
        ours.put(g.name(), g.medianSeconds(backend, DType.F32, ctx.warmup(), ctx.repetitions()));
        gemmSpecs.add(g.toJson());
      }
      for (TrainCase t : trains) {
        ctx.log("cpu: " + t.name());
        try (LanguageModel model = t.newModel(backend, Precision.FP32)) {
          ours.put(t.name(), t.medianStepSeconds(model, Precision.FP32, ctx.warmup(), steps));
          trainSpecs.add(t.toJson(ctx.warmup(), steps));
        }
      }
    }
    for (TrainCase t : ownProcessTrains) {
      ctx.log("cpu: " + t.name() + " (a JVM of its own)");
      OwnProcessTrain.Measurement m = OwnProcessTrain.measure(t, ctx.warmup(), steps, threads, ctx.progress());
      ours.put(t.name(), m.stepSeconds());
      oursPeakRss.put(t.name(), m.peakRssBytes());
      trainSpecs.add(t.toJson(ctx.warmup(), steps).put("own_process", true));
    }
    ctx.log("cpu: peer " + PEER_SCRIPT);
    PeerScripts.Outcome peer = ctx.peers().run(PEER_SCRIPT, spec, threads, ctx.progress());
    List<BenchRow> rows = new ArrayList<>();
    for (GemmCase g : gemms) {
      rows.add(new BenchRow(g.name(), Unit.GFLOP_PER_S, Unit.GFLOP_PER_S.of(g.flops(), ours.get(g.name())),
          Unit.GFLOP_PER_S.of(g.flops(), peer.value(g.name()))));
    }
    List<TrainCase> allTrains = new ArrayList<>(trains);
    allTrains.addAll(ownProcessTrains);
    for (TrainCase t : allTrains) {
      rows.add(new BenchRow(t.name(), Unit.MS_PER_STEP, Unit.MS_PER_STEP.of(0, ours.get(t.name())),
          Unit.MS_PER_STEP.of(0, peer.value(t.name()))));
      if (oursPeakRss.containsKey(t.name())) {
        rows.add(new BenchRow(peakRssName(t.name()), Unit.MIB, Unit.MIB.of(0, oursPeakRss.get(t.name())),
            Unit.MIB.of(0, peer.value(peakRssName(t.name())))));
      }
    }
    return new BenchReport(name(), "fp32 on " + threads + " CPU threads; median of " + ctx.repetitions()
        + " timed runs after " + ctx.warmup() + " warm-up runs (filling at least " + Timing.MIN_WARMUP_SECONDS
        + " s) per case",
        "lmtrain CPU backend (C++ kernels), " + threads + " threads", peer.describe(), List.of(
            "gemm MxKxN: op(A) (M,K) . op(B) (K,N); NT = A.B^T (Linear forward), TN = A^T.B (weight gradient)",
            "train: one optimizer step = forward, cross-entropy, backward, grad-norm clip 1.0, AdamW (wd 0.01);"
                + " fp32, dropout 0 on both sides, random tokens; ours through Trainer, the peer in plain PyTorch"
                + " (HF math of scripts/parity/make_fixtures.py, torch.optim.AdamW)",
            TrainCase.JVM_WARMUP_NOTE,
            "peak RSS: VmHWM of a process that ran only that case (ours: a JVM with this one's options, the"
                + " peer: a Python process), read after its last step",
            "peer environment: OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = threads, OMP_WAIT_POLICY=PASSIVE (its"
                + " fastest setting here)"), rows);
  }
}
