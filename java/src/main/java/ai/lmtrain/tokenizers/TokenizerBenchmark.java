package ai.lmtrain.tokenizers;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Measures GPT-2 encoding throughput of {@link ByteLevelBpeTokenizer} against jtokkit's
 * {@code r50k_base} (the same vocabulary) in the same run: for each case, warm-up runs (not
 * timed), then timed repetitions alternating ours and the peer; the median MB/s (UTF-8 bytes) is
 * reported. Both encoders are checked to agree on the ids before timing.
 */
public final class TokenizerBenchmark {

  /** One benchmark case: throughput in MB/s of ours and of the peer. */
  public record Result(String name, double oursMbPerS, double peerMbPerS) {
    /** ours / peer. */
    public double ratio() {
      return oursMbPerS / peerMbPerS;
    }
  }

  private TokenizerBenchmark() {}

  /**
   * Runs the cases "whole text" (one encode call) and "line by line" over {@code text}.
   *
   * @param ours our GPT-2 tokenizer
   * @param text the text (tinyshakespeare in the CLI)
   * @param warmup untimed runs per encoder
   * @param repetitions timed runs per encoder
   */
  public static List<Result> run(ByteLevelBpeTokenizer ours, String text, int warmup, int repetitions) {
    Encoding peer = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
    if (!Arrays.equals(ours.encodeIds(text), peer.encodeOrdinary(text).toArray())) {
      throw new IllegalStateException("our GPT-2 ids differ from jtokkit r50k_base on the benchmark text");
    }
    List<String> lines = Arrays.asList(text.split("(?<=\n)"));
    double bytes = text.getBytes(StandardCharsets.UTF_8).length;
    List<Result> out = new ArrayList<>();
    out.add(measure("whole text", bytes, warmup, repetitions,
        t -> ours.encodeIds(text), t -> peer.encodeOrdinary(text)));
    out.add(measure("line by line", bytes, warmup, repetitions,
        t -> lines.forEach(ours::encodeIds), t -> lines.forEach(peer::encodeOrdinary)));
    return out;
  }

  private static Result measure(String name, double bytes, int warmup, int reps, Consumer<Void> ours, Consumer<Void> peer) {
    for (int i = 0; i < warmup; i++) {
      ours.accept(null);
      peer.accept(null);
    }
    double[] a = new double[reps];
    double[] b = new double[reps];
    for (int i = 0; i < reps; i++) {
      a[i] = mbPerS(bytes, ours);
      b[i] = mbPerS(bytes, peer);
    }
    return new Result(name, median(a), median(b));
  }

  private static double mbPerS(double bytes, Consumer<Void> work) {
    long t0 = System.nanoTime();
    work.accept(null);
    return bytes / 1e6 / ((System.nanoTime() - t0) / 1e9);
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
