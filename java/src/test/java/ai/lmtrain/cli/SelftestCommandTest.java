package ai.lmtrain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** {@code lmtrain selftest} in-process: table, JSON, exit codes and usage errors. */
class SelftestCommandTest {
  /** Ops whose CPU kernels exist in this tree. */
  private static final String OPS = "gelu,add,cast,countNonfinite";

  private record Run(int exit, String out, String err) {}

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    picocli.CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int exit = cl.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void cpuAgainstItselfPrintsATableAndPasses() {
    Run r = run("selftest", "--device", "cpu", "--op", OPS);
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().startsWith("op "), r.out());
    assertTrue(r.out().contains("gelu "), r.out());
    assertTrue(r.out().lines().filter(l -> l.endsWith("pass")).count() > 10, r.out());
    String summary = r.out().lines().reduce((a, b) -> b).orElseThrow();
    assertTrue(summary.matches("selftest cpu vs cpu: (\\d+) cases, \\1 passed, 0 failed \\(.*s\\)"), summary);
  }

  @Test
  void jsonHasOneResultPerCase() throws Exception {
    Run r = run("selftest", "--device", "cpu", "--op", "cast", "--json");
    assertEquals(0, r.exit(), r.err());
    JsonNode doc = new ObjectMapper().readTree(r.out());
    assertEquals("cpu", doc.get("device").asText());
    assertEquals(6, doc.get("cases").asInt()); // 3 destination types x 2 source types
    assertEquals(0, doc.get("failed").asInt());
    JsonNode first = doc.get("results").get(0);
    assertEquals("cast", first.get("op").asText());
    assertTrue(first.get("passed").asBoolean());
    assertTrue(r.err().startsWith("selftest cpu vs cpu: 6 cases, 6 passed"), r.err());
  }

  @Test
  void badOptionsAreUsageErrors() {
    Run op = run("selftest", "--device", "cpu", "--op", "gelu,nope");
    assertEquals(2, op.exit());
    assertTrue(op.err().contains("--op: unknown op 'nope'"), op.err());
    Run device = run("selftest", "--device", "tpu");
    assertEquals(2, device.exit());
    assertTrue(device.err().contains("unknown device 'tpu'"), device.err());
  }

  @Test
  void unusableDeviceIsOneClearError() {
    Run r = run("selftest", "--device", "cuda:99", "--op", "gelu");
    assertEquals(1, r.exit());
    assertTrue(r.err().startsWith("error: cannot use cuda:99: "), r.err());
    assertTrue(r.err().contains("--device cpu"), r.err());
  }
}
