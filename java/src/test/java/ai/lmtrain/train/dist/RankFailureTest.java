package ai.lmtrain.train.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.cli.Main;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A failing rank stops the whole job within a bounded time, with one clear error:
 * <ul>
 *   <li>rank 1 killed (SIGKILL) mid-run: mpirun ends rank 0 and exits with an error within 60 s;</li>
 *   <li>rank 1 hung (SIGSTOP) mid-run: rank 0's watchdog gives up on its all-reduce after
 *       LMTRAIN_DIST_TIMEOUT (5 s here), prints which collective waited and aborts the job, all
 *       within 60 s;</li>
 *   <li>an error on rank 0 alone mid-run (its checkpoint cannot be written): it reports and aborts;</li>
 *   <li>an error on every rank mid-run (a non-finite loss) and bad input on every rank (a missing
 *       corpus): the error is printed once, not once per rank.</li>
 * </ul>
 */
class RankFailureTest {
  private static final long BOUND_SECONDS = 60;

  @Test
  void aKilledRankEndsTheJob(@TempDir Path tmp) throws Exception {
    Outcome o = disturbRankOne(tmp, "-KILL", Map.of(), Map.of());
    assertNotEquals(0, o.exit, o.output);
    assertTrue(o.output.contains("rank 1") && o.output.contains("signal 9"), o.output);
  }

  @Test
  void aHungRankTimesOutTheOthers(@TempDir Path tmp) throws Exception {
    Outcome o = disturbRankOne(tmp, "-STOP", Map.of(), Map.of(DistributedRuntime.TIMEOUT_ENV, "5"));
    assertNotEquals(0, o.exit, o.output);
    assertTrue(o.output.contains("error: rank 0 of 2: MPI_Allreduce of ") && o.output.contains(" F32 values did not"
        + " complete within 5 s (another rank died, hung or failed; set LMTRAIN_DIST_TIMEOUT to wait longer): aborting"
        + " the job"), o.output);
    assertEquals(1, o.output.lines().filter(l -> l.startsWith("error:")).count(), o.output);
  }

  @Test
  void anErrorOnRankZeroMidRunAbortsTheJob(@TempDir Path tmp) throws Exception {
    // Once training runs, a file where rank 0 saves its checkpoint at step 40 makes that save fail.
    Outcome o = disturbRankOne(tmp, null, Map.of("save_strategy", "steps", "save_steps", 40), Map.of());
    assertNotEquals(0, o.exit, o.output);
    List<String> errors = o.output.lines().filter(l -> l.startsWith("error:")).toList();
    assertEquals(1, errors.size(), o.output);
    assertTrue(errors.get(0).startsWith("error: rank 0 of 2: ") && errors.get(0).contains("checkpoint' exists and is"
        + " not a folder"), o.output);
  }

  @Test
  void anErrorOnEveryRankMidRunIsReportedOnce(@TempDir Path tmp) throws Exception {
    MpiJobs.mpirunOrSkip();
    List<String> train = MpiJobs.tinyGpt2Train(tmp, Map.of("max_steps", 50, "learning_rate", 1e12));
    MpiJobs.Outcome job = MpiJobs.run(MpiJobs.command(2, Main.class.getName(), train.toArray(String[]::new)), Map.of(),
        120);
    assertNotEquals(0, job.exit(), job.output());
    List<String> errors = job.output().lines().filter(l -> l.startsWith("error:")).toList();
    assertEquals(1, errors.size(), job.output());
    assertTrue(errors.get(0).startsWith("error: rank 0 of 2: the training loss or gradient became non-finite"),
        job.output());
  }

  @Test
  void badInputOnEveryRankIsReportedOnce(@TempDir Path tmp) throws Exception {
    MpiJobs.mpirunOrSkip();
    MpiJobs.Outcome job = MpiJobs.run(MpiJobs.command(2, Main.class.getName(), "train", "--model", "gpt2",
        "--corpus", tmp.resolve("missing.txt").toString(), "--train-tokenizer", "--output",
        tmp.resolve("out").toString()), Map.of(), 120);
    assertNotEquals(0, job.exit(), job.output());
    List<String> errors = job.output().lines().filter(l -> l.startsWith("error:")).toList();
    assertEquals(List.of("error: " + tmp.resolve("missing.txt") + ": no such file"), errors, job.output());
  }

  private record Outcome(int exit, String output) {}

  /**
   * Starts a long 2-rank GPT-2 run (with {@code settings}), waits until rank 0 has logged a
   * training step, then sends {@code signal} to rank 1 (or, if null, puts a file where rank 0's
   * checkpoint goes), and returns how the job ended, failing unless it ended within
   * {@link #BOUND_SECONDS}.
   */
  private static Outcome disturbRankOne(Path tmp, String signal, Map<String, Object> settings, Map<String, String> env)
      throws Exception {
    MpiJobs.mpirunOrSkip();
    Map<String, Object> run = new java.util.HashMap<>(settings);
    run.put("max_steps", 1_000_000);
    List<String> train = MpiJobs.tinyGpt2Train(tmp, run);
    Process job = MpiJobs.builder(MpiJobs.command(2, Main.class.getName(), train.toArray(String[]::new)), env).start();
    StringBuilder output = new StringBuilder();
    Thread reader = MpiJobs.drain(job, output);
    try {
      MpiJobs.awaitFirstStep(job, tmp.resolve("run/metrics.jsonl"), output);
      if (signal == null) {
        Files.writeString(tmp.resolve("run/checkpoint"), "not a checkpoint folder");
      } else {
        ProcessHandle rankOne = rank(job, 1);
        new ProcessBuilder("kill", signal, String.valueOf(rankOne.pid())).inheritIO().start().waitFor();
      }
      long signalled = System.nanoTime();
      boolean ended = job.waitFor(BOUND_SECONDS, TimeUnit.SECONDS);
      double seconds = (System.nanoTime() - signalled) / 1e9;
      reader.join(5000);
      assertTrue(ended, "the job still runs " + BOUND_SECONDS + " s after the disturbance (" + signal + "):\n" + output);
      assertTrue(job.descendants().noneMatch(ProcessHandle::isAlive), "ranks outlived mpirun");
      System.out.printf("disturbance %s: the job ended %.1f s later%n", signal == null ? "checkpoint file" : signal,
          seconds);
      return new Outcome(job.exitValue(), output.toString());
    } finally {
      job.descendants().forEach(ProcessHandle::destroyForcibly);
      job.destroyForcibly();
    }
  }

  /** The JVM of rank {@code rank} among mpirun's descendants (Open MPI puts the rank in its environment). */
  private static ProcessHandle rank(Process mpirun, int rank) throws IOException {
    String marker = "OMPI_COMM_WORLD_RANK=" + rank;
    for (ProcessHandle p : mpirun.descendants().toList()) {
      Path environ = Path.of("/proc", String.valueOf(p.pid()), "environ");
      try {
        String env = new String(Files.readAllBytes(environ), StandardCharsets.UTF_8);
        if (List.of(env.split("\0")).contains(marker)) {
          return p;
        }
      } catch (IOException e) {
        // the process ended or is not ours to read: not the rank
      }
    }
    throw new IOException("no process with " + marker + " under mpirun " + mpirun.pid());
  }
}
