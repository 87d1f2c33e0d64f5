package ai.lmtrain.gpucheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scripts/gpu-check} without a GPU: with nvidia-smi failing as on a machine without a driver
 * it skips every GPU stage, says "no GPU" and exits 3; with a stand-in nvidia-smi and a stand-in
 * bundle whose commands print the real commands' formats (selftest and lab JSON, JUnit XML, bench
 * JSON, compute-sanitizer's log), it runs every stage, reports failures with their messages, stops a
 * stage at its time limit and goes on, compares the GPU labs' answers with the CPU lab's, moves
 * memcheck ahead of the benchmarks once kernels fail, and exits 1. Needs python3 and bash on the PATH.
 */
class GpuCheckScriptTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> STAGES = List.of("nvidia-smi", "devices", "selftest", "gpu-tests", "lab-cpu",
      "lab-fp32", "lab-bf16", "hf-interop", "bench-kernels", "bench-train", "memcheck", "ncu");

  private static Path script;

  @BeforeAll
  static void findScript() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("scripts/gpu-check"))) {
        script = p.resolve("scripts/gpu-check");
        return;
      }
    }
    fail("scripts/gpu-check not found above " + Path.of("").toAbsolutePath());
  }

  private static boolean hasPython() {
    try {
      return new ProcessBuilder("python3", "-c", "import sys; sys.exit(sys.version_info < (3, 8))").start().waitFor()
          == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private record Run(int exit, String stdout, String stderr, JsonNode report) {
    JsonNode stage(String id) {
      for (JsonNode s : report.get("stages")) {
        if (s.get("id").asText().equals(id)) {
          return s;
        }
      }
      throw new AssertionError("no stage " + id + " in " + report);
    }
  }

  /** Runs gpu-check with {@code fakeBin} first on the PATH; the report goes to {@code out}. */
  private static Run gpuCheck(Path fakeBin, Path out, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("python3", script.toString()));
    command.addAll(List.of(args));
    command.add(out.toString());
    ProcessBuilder pb = new ProcessBuilder(command);
    Map<String, String> env = pb.environment();
    env.remove("OUT");
    env.put("PATH", fakeBin + ":" + env.getOrDefault("PATH", "/usr/bin:/bin"));
    Path stdout = Files.createTempFile("gpu-check", ".out");
    Path stderr = Files.createTempFile("gpu-check", ".err");
    Process p = pb.redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
    if (!p.waitFor(5, TimeUnit.MINUTES)) { // a hang guard, not a timing assertion
      p.destroyForcibly();
      fail("gpu-check did not finish");
    }
    String err = Files.readString(stderr);
    Path report = out.resolve("report.json");
    return new Run(p.exitValue(), Files.readString(stdout), err,
        Files.isRegularFile(report) ? JSON.readTree(report.toFile()) : null);
  }

  private static void executable(Path file, String text) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, text, StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  @Test
  void withoutAGpuEveryGpuStageIsSkippedAndTheReportSaysNoGpu(@TempDir Path tmp) throws Exception {
    assumeTrue(hasPython(), "python3 (3.8+) is not on the PATH");
    Path bin = tmp.resolve("bin");
    executable(bin.resolve("nvidia-smi"), """
        #!/usr/bin/env bash
        echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver." >&2
        exit 9
        """);
    Run run = gpuCheck(bin, tmp.resolve("report"), "--bundle", tmp.resolve("no-bundle").toString());
    assertEquals(3, run.exit(), run.stderr());
    assertTrue(run.report().get("gpu").isNull());
    assertTrue(run.report().get("verdict").asText().startsWith("no GPU"), run.report().toString());
    List<String> ids = new ArrayList<>();
    run.report().get("stages").forEach(s -> ids.add(s.get("id").asText()));
    assertEquals(STAGES, ids, "every stage is listed, in the issue's order");
    assertEquals("skipped", run.stage("nvidia-smi").get("status").asText());
    assertTrue(run.stage("nvidia-smi").get("reason").asText().startsWith("no GPU: nvidia-smi exited with status 9"),
        run.stage("nvidia-smi").toString());
    assertTrue(run.stage("devices").get("reason").asText().startsWith("no bundle at"));
    for (String id : List.of("selftest", "gpu-tests", "lab-cpu", "lab-fp32", "lab-bf16", "bench-kernels",
        "bench-train", "memcheck", "ncu")) {
      assertEquals("skipped", run.stage(id).get("status").asText(), id);
      assertEquals("no GPU", run.stage(id).get("reason").asText(), id);
    }
    String interop = run.stage("hf-interop").get("reason").asText();
    assertEquals("skipped", run.stage("hf-interop").get("status").asText(), interop);
    assertTrue(interop.contains("not installed") || interop.startsWith("no lab output"), interop);
    String markdown = Files.readString(tmp.resolve("report/report.md"));
    assertTrue(markdown.startsWith("# gpu-check report: no GPU"), markdown);
    assertTrue(markdown.contains("| 2 | selftest | skipped: no GPU |"), markdown);
    assertEquals(markdown.strip(), run.stdout().strip(), "the report is also printed");
  }

  @Test
  void badUsageAndForeignReportFoldersAreRefused(@TempDir Path tmp) throws Exception {
    assumeTrue(hasPython(), "python3 (3.8+) is not on the PATH");
    Run unknown = gpuCheck(tmp, tmp.resolve("r1"), "--only", "selftest,warp-drive");
    assertEquals(2, unknown.exit());
    assertTrue(unknown.stderr().contains("--only: unknown stage warp-drive"), unknown.stderr());
    Path foreign = Files.createDirectories(tmp.resolve("r2"));
    Files.writeString(foreign.resolve("thesis.tex"), "keep me");
    Run refused = gpuCheck(tmp, foreign);
    assertEquals(1, refused.exit());
    assertTrue(refused.stderr().contains("holds other files (thesis.tex)"), refused.stderr());
    assertEquals("keep me", Files.readString(foreign.resolve("thesis.tex")));
    assertNull(refused.report());
  }

  /** A stand-in GPU, compute-sanitizer and bundle: their outputs have the real commands' formats. */
  private static void fakeGpuAndBundle(Path bin, Path bundle) throws IOException {
    executable(bin.resolve("nvidia-smi"), """
        #!/usr/bin/env bash
        case "$*" in
          *--query-gpu*) echo "0, NVIDIA H200, 580.159.04, 143771 MiB, 0 MiB, 9.0, 1980 MHz, 3201 MHz, 700.00 W, 31" ;;
          *) echo "| NVIDIA H200   On |" ;;
        esac
        """);
    executable(bin.resolve("compute-sanitizer"), """
        #!/usr/bin/env bash
        while [[ $# -gt 0 ]]; do [[ "$1" == --log-file ]] && log="$2"; shift; done
        cat > "$log" <<'LOG'
        ========= COMPUTE-SANITIZER
        ========= Invalid __global__ read of size 2 bytes
        =========     at void matmul_mma_kernel<__nv_bfloat16, __nv_bfloat16, false, false>(...)+0x1a40
        ========= ERROR SUMMARY: 1 error
        LOG
        exit 97
        """);
    Files.writeString(Files.createDirectories(bundle).resolve("build-info.json"),
        "{\"commit\": \"0123456789abcdef\", \"uncommitted_changes\": false, \"built\": \"today\", \"cuda\": \"ON\"}\n");
    executable(bundle.resolve("bin/lmtrain"), """
        #!/usr/bin/env bash
        lab() { # $1 = first fill-mask answer; the losses differ a little between devices
          cat <<JSON
        {"device":"x","precision":"fp32","seed":42,"epochs":10,"output":"o","runs":{
         "bert":{"parameters":482001,"final_train_loss":1.33,"validation_loss":$2,"validation_perplexity":3.5,
                 "validation_accuracy":0.66,"training_seconds":4.0},
         "gpt2":{"parameters":464512,"final_train_loss":0.08,"validation_loss":0.0838,"validation_perplexity":1.08,
                 "validation_accuracy":0.966,"training_seconds":3.0}},
         "fill_mask":[{"text":"The lion is the [MASK] of the savanna.","predictions":[{"token_str":"$1","score":0.21},
                       {"token_str":"skilled","score":0.1},{"token_str":"called","score":0.05}]}],
         "generation":[{"prompt":"The lion is","greedy":"the lion is the king of the savanna. $3",
                        "sampled":"the lion is the king"}]}
        JSON
        }
        case "$1" in
          devices) echo "cpu      amd64, 16 threads, 32 GiB heap max, native core 0.1.0"
                   echo "cuda:0   NVIDIA H200, 132 SMs, 139.8 GiB, compute capability 9.0" ;;
          selftest) cat <<'JSON'
        {"device":"cuda","reference":"cpu","cases":2,"passed":1,"failed":1,"results":[
         {"op":"matmul","dtype":"BF16","caseName":"M=300 N=520 K=200 NN","tensor":"c","maxAbsError":0.5,
          "maxRelError":0.25,"tolerance":0.01,"passed":false,"problem":"c[17]: 0.5 but reference 0.25"},
         {"op":"gelu","dtype":"F32","caseName":"tanh n=1001","tensor":"out","maxAbsError":1e-7,"maxRelError":1e-7,
          "tolerance":1e-5,"passed":true,"problem":null}]}
        JSON
                    echo "selftest cuda vs cpu: 2 cases, 1 passed, 1 failed (0.1 s)" >&2; exit 1 ;;
          lab) case "$*" in
                 *"--device cpu"*) lab king 1.2682 "....." ;;
                 *"--precision fp32"*) lab king 1.2702 "... the" ;;  # same answers: passes
                 *"--precision bf16"*) lab the 1.31 "....." ;;       # another first guess: fails
               esac ;;
          bench) case "$2" in
                   kernels) echo '{"suite":"kernels","title":"bf16 kernels","ours":"lmtrain","peer":"PyTorch 2.11",' \\
                     '"notes":[],"cases":[{"case":"gemm fwd 768->2304","unit":"TFLOP/s","ours":500.5,"peer":610.2,' \\
                     '"ratio":0.82}]}' ;;
                   train) sleep 600 ;;                       # runs into its limit
                 esac ;;
          *) echo "error: unexpected command $*" >&2; exit 2 ;;
        esac
        """);
    executable(bundle.resolve("bin/run-tests"), """
        #!/usr/bin/env bash
        while [[ $# -gt 0 ]]; do [[ "$1" == --reports-dir ]] && dir="$2"; shift; done
        mkdir -p "$dir"
        cat > "$dir/TEST-junit-jupiter.xml" <<'XML'
        <?xml version="1.0" encoding="UTF-8"?>
        <testsuite name="JUnit Jupiter" tests="3" skipped="0" failures="1" errors="0">
        <testcase name="[1] bert" classname="ai.lmtrain.gpu.GpuTrainingParityTest" time="1.5"/>
        <testcase name="[2] gpt2" classname="ai.lmtrain.gpu.GpuTrainingParityTest" time="1.2"/>
        <testcase name="matmul BF16 M=300 N=520 K=200 NN" classname="ai.lmtrain.gpu.CudaVsCpuTest" time="0.1">
        <failure message="matmul BF16 M=300 N=520 K=200 NN: c[17]: 0.5 but reference 0.25"
          type="org.opentest4j.AssertionFailedError">stack trace</failure>
        </testcase>
        </testsuite>
        XML
        echo "[         3 tests found           ]"
        exit 1
        """);
  }

  @Test
  void withAGpuEveryStageRunsFailuresAreReportedAndATimeLimitStopsOnlyItsStage(@TempDir Path tmp)
      throws Exception {
    assumeTrue(hasPython(), "python3 (3.8+) is not on the PATH");
    Path bin = tmp.resolve("bin");
    Path bundle = tmp.resolve("bundle");
    fakeGpuAndBundle(bin, bundle);
    Run run = gpuCheck(bin, tmp.resolve("report"), "--bundle", bundle.toString(), "--skip", "ncu",
        "--limit", "bench-train=2");
    assertEquals(1, run.exit(), run.stderr());
    assertEquals("NVIDIA H200", run.report().at("/gpu/name").asText());
    Map<String, String> status = new HashMap<>();
    run.report().get("stages").forEach(s -> status.put(s.get("id").asText(), s.get("status").asText()));
    assertEquals(Map.ofEntries(Map.entry("nvidia-smi", "passed"), Map.entry("devices", "passed"),
        Map.entry("selftest", "failed"), Map.entry("gpu-tests", "failed"), Map.entry("lab-cpu", "passed"),
        Map.entry("lab-fp32", "passed"), Map.entry("lab-bf16", "failed"), Map.entry("hf-interop", "skipped"),
        Map.entry("bench-kernels", "passed"), Map.entry("bench-train", "timed-out"), Map.entry("memcheck", "failed"),
        Map.entry("ncu", "skipped")), status, run.report().toString());
    List<String> order = new ArrayList<>();
    run.report().get("stages").forEach(s -> order.add(s.get("id").asText()));
    assertEquals(List.of("nvidia-smi", "devices", "selftest", "gpu-tests", "lab-cpu", "lab-fp32", "lab-bf16",
        "hf-interop", "memcheck", "bench-kernels", "bench-train", "ncu"), order,
        "after failed correctness stages, memcheck runs before the benchmarks");

    JsonNode selftest = run.stage("selftest");
    assertEquals("1 of 2 cases failed (exit status 1)", selftest.get("reason").asText());
    assertEquals("matmul BF16 M=300 N=520 K=200 NN", selftest.at("/figures/failures/0/case").asText());
    assertEquals(25.0, selftest.at("/figures/per_op/matmul/worst_error_over_tolerance").asDouble(), 1e-9);
    JsonNode tests = run.stage("gpu-tests");
    assertEquals("1 of 3 gpu tests failed", tests.get("reason").asText());
    assertEquals(2, tests.at("/figures/passed").asInt());
    assertTrue(tests.at("/figures/failures/0/message").asText().endsWith("c[17]: 0.5 but reference 0.25"));
    assertEquals(1.2702, run.stage("lab-fp32").at("/figures/bert/validation_loss/gpu").asDouble(), 0);
    assertEquals(1.2682, run.stage("lab-fp32").at("/figures/bert/validation_loss/cpu").asDouble(), 0);
    assertEquals("fill-mask 'The lion is the [MASK] of the savanna.': 'the' (CPU: 'king')",
        run.stage("lab-bf16").get("reason").asText());
    assertEquals(0.82, run.stage("bench-kernels").at("/figures/cases/0/ratio").asDouble(), 0);
    assertEquals("stopped at its limit of 2 s", run.stage("bench-train").get("reason").asText());
    assertEquals("not selected (--only/--skip)", run.stage("ncu").get("reason").asText());
    JsonNode memcheck = run.stage("memcheck");
    assertEquals("1 memcheck error(s), exit status 97", memcheck.get("reason").asText());
    assertEquals("Invalid __global__ read of size 2 bytes", memcheck.at("/figures/first_errors/0").asText());
    assertTrue(run.report().get("warning").asText().startsWith("the bundle was built from 0123456789abcdef")
        || run.report().get("commit").isNull(), "a bundle from another commit is pointed out");

    String markdown = Files.readString(tmp.resolve("report/report.md"));
    assertTrue(markdown.startsWith("# gpu-check report: 4 stage(s) failed, 1 timed out"), markdown);
    assertTrue(markdown.contains("- FAIL matmul BF16 M=300 N=520 K=200 NN: c[17]: 0.5 but reference 0.25"), markdown);
    assertTrue(markdown.contains("| gemm fwd 768->2304 | TFLOP/s | 500 | 610 | 0.82 |"), markdown);
    assertTrue(Files.isRegularFile(tmp.resolve("report/" + run.stage("selftest").get("log").asText())));
  }
}
