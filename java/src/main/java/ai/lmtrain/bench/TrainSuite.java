package ai.lmtrain.bench;

import ai.lmtrain.models.BertConfig;
import ai.lmtrain.models.Gpt2Config;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.Backends;
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
 * {@code bench train}: bf16 training throughput of our models through {@link ai.lmtrain.train.Trainer}
 * on a CUDA device against Hugging Face transformers ({@code scripts/bench/torch_train.py}: bf16
 * autocast, SDPA attention, fused AdamW, grad-norm clipping), eager and with {@code torch.compile}
 * where the case asks for it. GPT-2 rows give tokens/s and MFU, BERT rows sequences/s.
 */
public final class TrainSuite implements BenchSuite {
  static final String PEER_SCRIPT = "torch_train.py";

  /**
   * One model to train.
   *
   * @param train the model and batch
   * @param unit tokens/s or seq/s
   * @param mfu also report model FLOPs utilisation
   * @param compiled also compare with the peer under torch.compile
   */
  public record Case(TrainCase train, Unit unit, boolean mfu, boolean compiled) {}

  private final List<Case> cases;

  /** A suite over {@code cases}. */
  public TrainSuite(List<Case> cases) {
    this.cases = List.copyOf(cases);
  }

  /** GPT-2 124M at batch 16 x 1024 and BERT-base MLM at batch 32 x 128, both without dropout. */
  public static TrainSuite standard() {
    Gpt2Config g = Gpt2Config.gpt2Small();
    Gpt2Config gpt2 = new Gpt2Config(g.vocabSize(), g.nPositions(), g.nEmbd(), g.nLayer(), g.nHead(), g.nInner(),
        g.activationFunction(), 0.0, 0.0, 0.0, g.layerNormEpsilon(), g.initializerRange(), true, false,
        g.bosTokenId(), g.eosTokenId(), true);
    BertConfig b = BertConfig.bertBase();
    BertConfig bert = new BertConfig(b.vocabSize(), b.hiddenSize(), b.numHiddenLayers(), b.numAttentionHeads(),
        b.intermediateSize(), b.hiddenAct(), 0.0, 0.0, b.maxPositionEmbeddings(), b.typeVocabSize(),
        b.initializerRange(), b.layerNormEps(), b.padTokenId(), b.positionEmbeddingType(), true);
    return new TrainSuite(List.of(
        new Case(new TrainCase("gpt2-124M B16 T1024", gpt2, 16, 1024), Unit.TOKENS_PER_S, true, true),
        new Case(new TrainCase("bert-base MLM B32 T128", bert, 32, 128), Unit.SEQUENCES_PER_S, false, false)));
  }

  @Override
  public String name() {
    return "train";
  }

  @Override
  public String description() {
    return "bf16 training throughput and MFU (GPT-2 124M, BERT-base) vs Hugging Face transformers on CUDA";
  }

  @Override
  public List<Device.Kind> deviceKinds() {
    return List.of(Device.Kind.CUDA);
  }

  /** The peer's key for a case in one mode. */
  static String peerKey(Case c, boolean compiled) {
    return c.train().name() + (compiled ? " compile" : " eager");
  }

  /** Our median seconds per step and FLOPs per token of each case, trained on {@code backend}. */
  record Ours(Map<String, Double> stepSeconds, Map<String, Double> flopsPerToken, ObjectNode peerSpec) {}

  Ours measureOurs(Backend backend, Precision precision, int warmup, int steps, BenchContext ctx) {
    Map<String, Double> seconds = new LinkedHashMap<>();
    Map<String, Double> flops = new LinkedHashMap<>();
    ObjectNode spec = JsonNodeFactory.instance.objectNode().put("warmup", warmup).put("repetitions", steps);
    ArrayNode specCases = spec.putArray("train");
    for (Case c : cases) {
      ctx.log("train: " + c.train().name());
      try (LanguageModel model = c.train().newModel(backend, precision)) {
        seconds.put(c.train().name(), c.train().medianStepSeconds(model, precision, warmup, steps));
        flops.put(c.train().name(), c.train().flopsPerToken(model));
        ObjectNode o = c.train().toJson(warmup, steps);
        ArrayNode modes = o.putArray("modes");
        modes.addObject().put("key", peerKey(c, false)).put("compile", false);
        if (c.compiled()) {
          modes.addObject().put("key", peerKey(c, true)).put("compile", true);
        }
        specCases.add(o);
      }
    }
    return new Ours(seconds, flops, spec);
  }

  @Override
  public BenchReport run(BenchContext ctx) {
    Ours ours;
    GpuPeaks peaks;
    try (Backend backend = Backends.open(ctx.device())) {
      peaks = GpuPeaks.of(ctx.device().index());
      ours = measureOurs(backend, Precision.BF16, ctx.warmup(), ctx.repetitions(), ctx);
    }
    ctx.log("train: peer " + PEER_SCRIPT);
    PeerScripts.Outcome peer = ctx.peers().run(PEER_SCRIPT, ours.peerSpec(), 0, ctx.progress());
    return new BenchReport(name(), "bf16 training on " + peaks.describe() + "; median step of "
        + ctx.repetitions() + " after " + ctx.warmup() + " warm-up steps", "lmtrain Trainer on " + ctx.device()
        + " (bf16 activations, fp32 master weights, fused AdamW)", peer.describe(), List.of(
            "one step = forward, cross-entropy, backward, grad-norm clip 1.0, AdamW (wd 0.01); dropout 0 on both"
                + " sides; random tokens",
            "peer: transformers GPT2LMHeadModel / BertForMaskedLM, SDPA attention, torch.autocast bf16,"
                + " torch.optim.AdamW(fused=True); 'eager' and 'compile' (torch.compile) modes",
            "MFU = tokens/s x (6 N + 6 L C T) / dense bf16 peak, N = parameters without position embeddings",
            TrainCase.JVM_WARMUP_NOTE),
        rows(peaks, ours, peer));
  }

  List<BenchRow> rows(GpuPeaks peaks, Ours ours, PeerScripts.Outcome peer) {
    List<BenchRow> rows = new ArrayList<>();
    for (Case c : cases) {
      TrainCase t = c.train();
      double work = c.unit() == Unit.TOKENS_PER_S ? t.tokensPerStep() : t.batch();
      double oursSeconds = ours.stepSeconds().get(t.name());
      double flopsPerStep = ours.flopsPerToken().get(t.name()) * t.tokensPerStep();
      for (boolean compiled : c.compiled() ? new boolean[] {false, true} : new boolean[] {false}) {
        double peerSeconds = peer.value(peerKey(c, compiled));
        String label = t.name() + " (peer " + (compiled ? "compiled" : "eager") + ")";
        rows.add(new BenchRow(label, c.unit(), c.unit().of(work, oursSeconds), c.unit().of(work, peerSeconds)));
        if (c.mfu()) {
          rows.add(new BenchRow(label + " MFU", Unit.PERCENT_OF_PEAK,
              100 * flopsPerStep / oursSeconds / peaks.bf16FlopsPerSecond(),
              100 * flopsPerStep / peerSeconds / peaks.bf16FlopsPerSecond()));
        }
      }
    }
    return rows;
  }
}
