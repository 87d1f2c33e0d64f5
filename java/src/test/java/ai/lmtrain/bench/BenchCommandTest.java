package ai.lmtrain.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.lmtrain.cli.Main;
import ai.lmtrain.nativebridge.NativeCalls;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code lmtrain bench}: suite selection and device checks, and the tokenizer suite end to end. */
class BenchCommandTest {

  private record Run(int exit, String out, String err) {}

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int exit = cl.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void unknownSuitesAreRejectedWithTheList() {
    Run r = run("bench", "model");
    assertEquals(2, r.exit());
    assertEquals("error: unknown suite model; available: cpu, kernels, train, tokenizer, data, dist", r.err().trim());
  }

  @Test
  void flagsOutOfRangeAreUsageErrorsNamingTheFlag() {
    String[][] cases = {
        {"--threads", "-1", "--threads must be in [0, 1024] (got -1)"},
        {"--threads", "100000", "--threads must be in [0, 1024] (got 100000)"},
        {"--repetitions", "0", "--repetitions must be in [1, 10000] (got 0)"},
        {"--warmup", "-1", "--warmup must be in [0, 10000] (got -1)"},
        {"--warmup", "2147483647", "--warmup must be in [0, 10000] (got 2147483647)"}};
    for (String[] c : cases) {
      Run r = run("bench", "tokenizer", c[0], c[1]);
      assertEquals(2, r.exit(), r.err());
      assertEquals("error: " + c[2] + " (see 'lmtrain bench --help')", r.err().trim());
      assertEquals("", r.out());
    }
  }

  @Test
  void suitesRefuseTheWrongDevice() {
    Run r = run("bench", "kernels", "--device", "cpu");
    assertEquals(2, r.exit());
    assertEquals("error: the kernels suite runs on cuda only (got --device cpu)", r.err().trim());
    r = run("bench", "cpu", "--device", "cuda:1");
    assertEquals(2, r.exit());
    assertEquals("error: the cpu suite runs on cpu only (got --device cuda:1)", r.err().trim());
  }

  @Test
  void gpuSuitesFailClearlyWithoutCuda() {
    assumeFalse(NativeCalls.hasCudaBackend(), "this build has a CUDA backend");
    for (String suite : new String[] {"kernels", "train"}) {
      Run r = run("bench", suite);
      assertEquals(1, r.exit());
      assertTrue(r.err().startsWith("error: cannot use cuda:0: this build of the native core has no CUDA backend"),
          r.err());
      assertEquals("", r.out());
    }
  }

  @Test
  void tokenizerSuiteJsonIsOneObjectWithBothCases() throws Exception {
    Run r = run("bench", "tokenizer", "--json", "--repetitions", "1", "--warmup", "0");
    assertEquals(0, r.exit(), r.err());
    JsonNode json = new ObjectMapper().readTree(r.out());
    assertEquals("tokenizer", json.get("suite").asText());
    assertEquals(2, json.get("cases").size());
    for (JsonNode c : json.get("cases")) {
      assertEquals("MB/s", c.get("unit").asText());
      assertTrue(c.get("ours").asDouble() > 0 && c.get("peer").asDouble() > 0 && c.get("ratio").asDouble() > 0);
    }
    assertEquals(1, r.out().trim().split("\n").length);
  }
}
