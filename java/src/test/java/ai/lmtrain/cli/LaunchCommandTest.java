package ai.lmtrain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.train.dist.MpiJobs;
import ai.lmtrain.train.dist.MpiLauncher;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lmtrain launch}: the mpirun command it builds, its refusals, a real 2-rank training run
 * through it, its exit code when the ranks fail, and SIGTERM to the launcher ending every rank.
 */
class LaunchCommandTest {

  @Test
  void theMpirunCommand() {
    List<String> java = List.of("java", "-cp", "x.jar", "ai.lmtrain.cli.Main");
    List<String> train = List.of("train", "--model", "gpt2");
    assertEquals(List.of("/usr/bin/mpirun", "--bind-to", "none", "-np", "2", "java", "-cp", "x.jar",
        "ai.lmtrain.cli.Main", "train", "--model", "gpt2"),
        MpiLauncher.command(Path.of("/usr/bin/mpirun"), 2, 8, false, List.of(), concat(java, train)));
    assertEquals(List.of("mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "4", "--mca",
        "btl", "self,vader", "java", "-cp", "x.jar", "ai.lmtrain.cli.Main", "train", "--model", "gpt2"),
        MpiLauncher.command(Path.of("mpirun"), 4, 2, true, List.of("--mca", "btl", "self,vader"), concat(java, train)));
  }

  @Test
  void dryRunAndRefusals() {
    StringWriter out = new StringWriter();
    var cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    assertEquals(0, cl.execute("launch", "--nproc-per-node", "3", "--mpirun", "/bin/true", "--dry-run", "--", "train",
        "--model", "gpt2"));
    String printed = out.toString().strip();
    assertTrue(printed.startsWith("/bin/true ") && printed.contains(" --bind-to none -np 3 env ")
        && printed.endsWith(" ai.lmtrain.cli.Main train --model gpt2"), printed);
    assertError("launch starts 'train' (the one data-parallel command), got 'lab'; usage: lmtrain launch"
        + " --nproc-per-node N -- train ...", "launch", "--nproc-per-node", "2", "--", "lab");
    assertError("--nproc-per-node must be >= 1 (got 0)", "launch", "--nproc-per-node", "0", "--", "train");
    assertError("--mpirun /nowhere/mpirun is not an executable file", "launch", "--nproc-per-node", "2", "--mpirun",
        "/nowhere/mpirun", "--", "train");
  }

  @Test
  void trainsOnTwoRanksAndForwardsTheExitCode(@TempDir Path tmp) throws Exception {
    MpiJobs.mpirunOrSkip();
    Path out = tmp.resolve("run");
    MpiJobs.Outcome ok = MpiJobs.run(launch(MpiJobs.tinyGpt2Train(tmp, Map.of("max_steps", 3))), Map.of(), 180);
    assertEquals(0, ok.exit(), ok.output());
    assertEquals(1, ok.output().lines().filter(l -> l.startsWith("trained gpt2:")).count(), "rank 0 reports once");
    assertEquals(2, new ObjectMapper().readTree(out.resolve("checkpoint/trainer_state.json").toFile()).get("world_size")
        .asInt());
    MpiJobs.Outcome failed = MpiJobs.run(launch(List.of("train", "--model", "gpt2", "--corpus",
        tmp.resolve("missing.txt").toString(), "--train-tokenizer", "--output", tmp.resolve("other").toString())), Map.of(),
        120);
    assertEquals(1, failed.exit(), failed.output());
  }

  @Test
  void terminatingTheLauncherEndsEveryRank(@TempDir Path tmp) throws Exception {
    MpiJobs.mpirunOrSkip();
    Process launcher = MpiJobs.builder(launch(MpiJobs.tinyGpt2Train(tmp, Map.of("max_steps", 1_000_000))), Map.of()).start();
    StringBuilder output = new StringBuilder();
    Thread reader = MpiJobs.drain(launcher, output);
    try {
      MpiJobs.awaitFirstStep(launcher, tmp.resolve("run/metrics.jsonl"), output);
      List<ProcessHandle> ranks = launcher.descendants().toList();
      assertTrue(ranks.size() >= 3, "mpirun and two ranks expected under the launcher: " + ranks);
      launcher.destroy(); // SIGTERM
      assertTrue(launcher.waitFor(60, TimeUnit.SECONDS), "the launcher outlived SIGTERM by 60 s:\n" + output);
      for (ProcessHandle p : ranks) {
        p.onExit().get(60, TimeUnit.SECONDS);
        assertFalse(p.isAlive(), "process " + p.pid() + " survived the launcher");
      }
      reader.join(5000);
    } finally {
      launcher.descendants().forEach(ProcessHandle::destroyForcibly);
      launcher.destroyForcibly();
    }
  }

  /** A JVM running {@code lmtrain launch --nproc-per-node 2 -- TRAIN...}. */
  private static List<String> launch(List<String> train) {
    List<String> args = new java.util.ArrayList<>(List.of("launch", "--nproc-per-node", "2", "--"));
    args.addAll(train);
    return MpiJobs.java(Main.class.getName(), args.toArray(String[]::new));
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new java.util.ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  private static void assertError(String message, String... args) {
    StringWriter err = new StringWriter();
    var cl = Main.commandLine();
    cl.setErr(new PrintWriter(err, true));
    assertEquals(1, cl.execute(args));
    assertEquals("error: " + message, err.toString().strip());
  }
}
