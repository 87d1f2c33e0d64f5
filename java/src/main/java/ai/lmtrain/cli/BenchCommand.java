package ai.lmtrain.cli;

import ai.lmtrain.data.TextSource;
import ai.lmtrain.tokenizers.TokenizerBenchmark;
import ai.lmtrain.tokenizers.Tokenizers;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lmtrain bench SUITE}: speed benchmarks against a peer measured in the same run. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Run a benchmark suite. Suites: tokenizer (GPT-2 BPE vs jtokkit r50k_base on tinyshakespeare).")
public final class BenchCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "SUITE", description = "the suite to run: tokenizer")
  String suite;

  @Option(names = "--json", description = "print one JSON object instead of a table")
  boolean json;

  @Option(names = "--repetitions", defaultValue = "5", description = "timed runs per encoder (default ${DEFAULT-VALUE})")
  int repetitions;

  @Override
  public Integer call() throws Exception {
    if (!suite.equals("tokenizer")) {
      spec.commandLine().getErr().println("error: unknown suite " + suite + "; available: tokenizer");
      return 2;
    }
    String text = TextSource.bundledText("tinyshakespeare.txt");
    List<TokenizerBenchmark.Result> results = TokenizerBenchmark.run(Tokenizers.gpt2(), text, 3, repetitions);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      ObjectNode root = new ObjectMapper().createObjectNode().put("suite", "tokenizer")
          .put("ours", "lmtrain ByteLevelBpeTokenizer (gpt2)").put("peer", "jtokkit 1.1.0 r50k_base")
          .put("unit", "MB/s").put("bytes", text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
      ArrayNode cases = root.putArray("cases");
      for (TokenizerBenchmark.Result r : results) {
        cases.addObject().put("case", r.name()).put("ours", r.oursMbPerS()).put("peer", r.peerMbPerS()).put("ratio", r.ratio());
      }
      out.println(root);
    } else {
      out.println("tokenizer: GPT-2 encode of tinyshakespeare, MB/s (median of " + repetitions + "; peer = jtokkit r50k_base)");
      out.printf("%-14s %10s %10s %8s%n", "case", "ours", "peer", "ratio");
      for (TokenizerBenchmark.Result r : results) {
        out.printf("%-14s %10.2f %10.2f %8.2f%n", r.name(), r.oursMbPerS(), r.peerMbPerS(), r.ratio());
      }
    }
    out.flush();
    return 0;
  }
}
