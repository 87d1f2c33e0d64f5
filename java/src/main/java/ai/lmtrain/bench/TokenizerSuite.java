package ai.lmtrain.bench;

import ai.lmtrain.data.TextSource;
import ai.lmtrain.tensor.Device;
import ai.lmtrain.tokenizers.TokenizerBenchmark;
import ai.lmtrain.tokenizers.Tokenizers;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** {@code bench tokenizer}: GPT-2 BPE encoding throughput against jtokkit's r50k_base, see {@link TokenizerBenchmark}. */
public final class TokenizerSuite implements BenchSuite {
  private static final String TEXT = "tinyshakespeare.txt";

  @Override
  public String name() {
    return "tokenizer";
  }

  @Override
  public String description() {
    return "GPT-2 BPE encode MB/s vs jtokkit r50k_base on tinyshakespeare";
  }

  @Override
  public List<Device.Kind> deviceKinds() {
    return List.of(Device.Kind.CPU);
  }

  @Override
  public BenchReport run(BenchContext ctx) {
    String text = TextSource.bundledText(TEXT);
    List<BenchRow> rows = TokenizerBenchmark.run(Tokenizers.gpt2(), text, Math.max(1, ctx.warmup()),
        ctx.repetitions()).stream()
        .map(r -> new BenchRow(r.name(), Unit.MB_PER_S, r.oursMbPerS(), r.peerMbPerS()))
        .toList();
    return new BenchReport(name(), "GPT-2 encode of " + TEXT + " (" + text.getBytes(StandardCharsets.UTF_8).length
        + " bytes), one JVM thread; median of " + ctx.repetitions() + " timed runs, ours and peer alternating",
        "lmtrain ByteLevelBpeTokenizer (gpt2)", "jtokkit 1.1.0 r50k_base (same vocabulary, ids checked equal)",
        List.of(), rows);
  }
}
