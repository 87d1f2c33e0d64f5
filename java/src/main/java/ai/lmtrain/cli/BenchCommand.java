package ai.lmtrain.cli;

import ai.lmtrain.bench.BenchContext;
import ai.lmtrain.bench.BenchOutput;
import ai.lmtrain.bench.BenchReport;
import ai.lmtrain.bench.BenchSuite;
import ai.lmtrain.bench.BenchSuites;
import ai.lmtrain.bench.PeerScripts;
import ai.lmtrain.tensor.Device;
import java.io.PrintWriter;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code lmtrain bench SUITE}: speed benchmarks, every figure next to a peer measured in the same
 * run on the same machine (see {@link BenchSuites}). The table (or with {@code --json} one JSON
 * object) goes to stdout, progress to stderr.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {"Run a benchmark suite against its peer, measured in the same run:",
        "  cpu        fp32 GEMM, BERT/GPT-2 training steps (GPT-2 124M: with peak RSS) vs PyTorch CPU",
        "  kernels    bf16 CUDA kernels at GPT-2 124M shapes vs PyTorch",
        "  train      GPT-2 124M / BERT-base training vs transformers (CUDA)",
        "  tokenizer  GPT-2 BPE encoding vs jtokkit r50k_base",
        "  data       prepare-data MB/s, tokens/s (1 and all threads) vs jtokkit",
        "  dist       CPU training: 2 MPI processes vs 1 process on the same cores",
        "Peers (scripts/bench/*.py) run with $LMTRAIN_PYTHON (default python3);",
        "a peer that cannot run shows n/a."})
public final class BenchCommand implements Callable<Integer> {
  /** The most timed or untimed runs per case and side. */
  static final int MAX_RUNS = 10_000;

  /** The most CPU threads. */
  static final int MAX_THREADS = 1024;

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "SUITE", description = "cpu, kernels, train, tokenizer, data or dist")
  String suite;

  @Option(names = "--device", description = "cpu or cuda[:N] (default: cpu for cpu/tokenizer/data, cuda for kernels/train)")
  String device;

  @Option(names = "--json", description = "print one JSON object instead of a table")
  boolean json;

  @Option(names = "--repetitions", defaultValue = "5",
      description = "timed runs (training steps) per case and side; the median is reported (default ${DEFAULT-VALUE})")
  int repetitions;

  @Option(names = "--warmup", defaultValue = "2", description = "untimed runs per case and side (default "
      + "${DEFAULT-VALUE}); unless 0, ours also warm up for at least 1 s per case and 3 s of training per"
      + " training case, for the JVM's just-in-time compilers")
  int warmup;

  @Option(names = "--threads", defaultValue = "0",
      description = "CPU threads for ours and the peer, at most " + MAX_THREADS + " (default 0: all cores)")
  int threads;

  @Override
  public Integer call() throws Exception {
    Flags.inRange(spec, "--repetitions", repetitions, 1, MAX_RUNS);
    Flags.inRange(spec, "--warmup", warmup, 0, MAX_RUNS);
    Flags.inRange(spec, "--threads", threads, 0, MAX_THREADS);
    PrintWriter err = spec.commandLine().getErr();
    Optional<BenchSuite> found = BenchSuites.named(suite);
    if (found.isEmpty()) {
      err.println("error: unknown suite " + suite + "; available: " + BenchSuites.names());
      err.flush();
      return 2;
    }
    BenchSuite s = found.get();
    Device target = device == null ? defaultDevice(s) : Device.parse(device);
    if (!s.deviceKinds().contains(target.kind())) {
      err.println("error: the " + s.name() + " suite runs on " + s.deviceKinds().get(0).name().toLowerCase(
          java.util.Locale.ROOT) + " only (got --device " + target + ")");
      err.flush();
      return 2;
    }
    BenchReport report = s.run(new BenchContext(target, warmup, repetitions, threads, PeerScripts.fromEnvironment(),
        err));
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(BenchOutput.toJson(report));
      out.flush();
    } else {
      BenchOutput.printTable(out, report);
    }
    return 0;
  }

  private static Device defaultDevice(BenchSuite s) {
    return s.deviceKinds().get(0) == Device.Kind.CPU ? Device.CPU : Device.cuda(0);
  }
}
