package ai.lmtrain.cli;

import ai.lmtrain.selftest.BackendComparison;
import ai.lmtrain.selftest.CaseResult;
import ai.lmtrain.selftest.OpCase;
import ai.lmtrain.selftest.OpSuite;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.Backends;
import ai.lmtrain.tensor.CpuBackend;
import ai.lmtrain.tensor.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lmtrain selftest}: runs every kernel on a device and on the CPU with the same inputs and
 * compares them (see {@link ai.lmtrain.selftest}). Prints one row per case and a summary line (with
 * {@code --json}: one JSON document on stdout, the summary on stderr); exit 0 when
 * every case passes, 1 otherwise. {@code --device cpu} compares the CPU with itself, a smoke test.
 */
@Command(name = "selftest", mixinStandardHelpOptions = true,
    description = "Compare every kernel on a device with the CPU backend (same inputs, stated tolerances, "
        + "guard bytes around every output). Exit 0 when all cases pass, 1 otherwise.")
final class SelftestCommand implements Callable<Integer> {
  private static final String ROW = "%-20s %-5s %-52s %11s %11s %9s  %s%n";

  @Spec CommandSpec spec;

  @Option(names = "--device", defaultValue = "cuda", converter = DeviceConverter.class, paramLabel = "DEVICE",
      description = "Device under test: cuda, cuda:N or cpu (default: ${DEFAULT-VALUE}).")
  Device device;

  @Option(names = "--json", description = "Print the results as one JSON document instead of a table.")
  boolean json;

  @Option(names = "--op", split = ",", paramLabel = "OP",
      description = "Only these ops (Backend method names, comma-separated), e.g. matmul,gelu.")
  List<String> ops;

  @Override
  public Integer call() throws Exception {
    List<OpCase> cases;
    try {
      cases = ops == null ? OpSuite.all() : OpSuite.ofOps(ops);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--op: " + e.getMessage());
    }
    PrintWriter out = spec.commandLine().getOut();
    List<CaseResult> rows = new ArrayList<>();
    long start = System.nanoTime();
    try (Backend reference = new CpuBackend(); Backend underTest = Backends.open(device)) {
      BackendComparison comparison = new BackendComparison(reference, underTest);
      if (!json) {
        out.printf(ROW, "op", "dtype", "case", "max abs err", "max rel err", "tolerance", "result");
      }
      for (OpCase c : cases) {
        CaseResult row = comparison.run(c);
        rows.add(row);
        if (!json) {
          printRow(out, row);
        }
      }
    }
    long failed = rows.stream().filter(r -> !r.passed()).count();
    String summary = String.format("selftest %s vs cpu: %d cases, %d passed, %d failed (%.1f s)", device, rows.size(),
        rows.size() - failed, failed, (System.nanoTime() - start) / 1e9);
    if (json) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("device", device.toString());
      doc.put("reference", "cpu");
      doc.put("cases", rows.size());
      doc.put("passed", rows.size() - failed);
      doc.put("failed", failed);
      doc.put("results", rows);
      out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc));
      spec.commandLine().getErr().println(summary); // stdout stays one JSON document
    } else {
      out.println(summary);
    }
    out.flush();
    return failed == 0 ? 0 : 1;
  }

  private static void printRow(PrintWriter out, CaseResult r) {
    out.printf(ROW, r.op(), r.dtype(), r.caseName(), number(r.maxAbsError()), number(r.maxRelError()),
        number(r.tolerance()), r.passed() ? "pass" : "FAIL");
    if (r.problem() != null) {
      out.println("    " + r.problem());
    }
    out.flush();
  }

  private static String number(double x) {
    return Double.isNaN(x) ? "-" : String.format("%.2e", x);
  }

  /** Parses --device with {@link Device#parse}, so a bad value is a usage error (exit 2). */
  static final class DeviceConverter implements CommandLine.ITypeConverter<Device> {
    @Override
    public Device convert(String value) {
      return Device.parse(value);
    }
  }
}
