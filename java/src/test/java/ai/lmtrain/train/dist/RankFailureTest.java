package ai.lmtrain.train.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.lmtrain.cli.Main;
import ai.lmtrain.data.TextSource;
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
 *   <li>bad input on every rank (a missing corpus): the error is printed once, not once per rank.</li>
 * </ul>
 */
class RankFailureTest {
  private static final long BOUND_SECONDS = 60;

  @Test
  void aKilledRankEndsTheJob(@TempDir Path tmp) throws Exception {
    Outcome o = disturbRankOne(tmp, "-KILL", Map.of());
    assertNotEquals(0, o.exit, o.output);
    assertTrue(o.output.contains("rank 1") && o.output.contains("signal 9"), o.output);
  }

  @Test
  void aHungRankTimesOutTheOthers(@TempDir Path tmp) throws Exception {
    Outcome o = disturbRankOne(tmp, "-STOP", Map.of(DistributedRuntime.TIMEOUT_ENV, "5"));
    assertNotEquals(0, o.exit, o.output);
    assertTrue(o.output.contains("error: rank 0 of 2: MPI_Allreduce of ") && o.output.contains(" F32 values did not"
        + " complete within 5 s (another rank died, hung or failed; set LMTRAIN_DIST_TIMEOUT to wait longer): aborting"
        + " the job"), o.output);
    assertEquals(1, o.output.lines().filter(l -> l.startsWith("error:")).count(), o.output);
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
   * Starts a long 2-rank GPT-2 run, waits until rank 0 has logged a training step, sends
   * {@code signal} to rank 1, and returns how the job ended, failing unless it ended within
   * {@link #BOUND_SECONDS}.
   */
  private static Outcome disturbRankOne(Path tmp, String signal, Map<String, String> env) throws Exception {
    MpiJobs.mpirunOrSkip();
    Path corpus = tmp.resolve("corpus.txt");
    Files.write(corpus, TextSource.bundledLines("toy_corpus.txt"));
    Path config = tmp.resolve("config.json");
    Files.writeString(config, "{\"n_layer\": 1, \"n_embd\": 32, \"n_head\": 2, \"n_positions\": 32, \"max_steps\": 1000000,"
        + " \"per_device_train_batch_size\": 2, \"logging_steps\": 1, \"eval_strategy\": \"no\", \"save_strategy\": \"no\"}");
    Path out = tmp.resolve("run");
    Process job = MpiJobs.builder(MpiJobs.command(2, Main.class.getName(), "train", "--model", "gpt2", "--corpus",
        corpus.toString(), "--train-tokenizer", "--vocab-size", "300", "--config", config.toString(), "--mode", "lines",
        "--context-length", "24", "--output", out.toString()), env).start();
    StringBuilder output = new StringBuilder();
    Thread reader = MpiJobs.drain(job, output);
    try {
      waitForTraining(job, out.resolve("metrics.jsonl"), output);
      ProcessHandle rankOne = rank(job, 1);
      new ProcessBuilder("kill", signal, String.valueOf(rankOne.pid())).inheritIO().start().waitFor();
      long signalled = System.nanoTime();
      boolean ended = job.waitFor(BOUND_SECONDS, TimeUnit.SECONDS);
      double seconds = (System.nanoTime() - signalled) / 1e9;
      reader.join(5000);
      assertTrue(ended, "the job still runs " + BOUND_SECONDS + " s after kill " + signal + " of rank 1:\n" + output);
      assertTrue(job.descendants().noneMatch(ProcessHandle::isAlive), "ranks outlived mpirun");
      System.out.printf("kill %s of rank 1: the job ended %.1f s later%n", signal, seconds);
      return new Outcome(job.exitValue(), output.toString());
    } finally {
      job.descendants().forEach(ProcessHandle::destroyForcibly);
      job.destroyForcibly();
    }
  }

  private static void waitForTraining(Process job, Path metrics, StringBuilder output) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    while (!Files.isRegularFile(metrics) || Files.size(metrics) == 0) {
      if (!job.isAlive() || System.nanoTime() > deadline) {
        job.waitFor(5, TimeUnit.SECONDS);
        fail("the job never logged a step:\n" + output);
      }
      Thread.sleep(200);
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
