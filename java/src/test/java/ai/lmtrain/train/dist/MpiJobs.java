package ai.lmtrain.train.dist;

import static org.junit.jupiter.api.Assertions.fail;

import ai.lmtrain.data.TextSource;
import ai.lmtrain.nativebridge.NativeLibraries;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Starts test jobs of several JVMs under Open MPI's mpirun: {@code mpirun -np N java -cp <the test
 * class path> MAIN ARGS}, one rank per JVM, with {@code --oversubscribe} (more ranks than cores on
 * a small machine) and {@code --bind-to none}, and {@code OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM)=1} (CI
 * containers run as root). The JVMs use the serial collector and the client compiler only: short
 * jobs on a small shared machine spend less CPU compiling. Tests that need it skip, with the reason, when mpirun or the MPI shim
 * is missing.
 */
public final class MpiJobs {
  /** What a job did: mpirun's exit code and everything the ranks and mpirun printed. */
  public record Outcome(int exit, String output, double seconds) {}

  private MpiJobs() {}

  /** mpirun on the PATH, or the test is skipped. Also skips when this build has no MPI shim. */
  public static Path mpirunOrSkip() {
    Optional<Path> mpirun = MpiLauncher.findMpirun();
    Assumptions.assumeTrue(mpirun.isPresent(), "mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev):"
        + " multi-process tests skipped");
    Assumptions.assumeTrue(NativeLibraries.mpiShim().isPresent(), "this build has no MPI shim (CMake found no MPI):"
        + " multi-process tests skipped");
    return mpirun.get();
  }

  /** The command of {@code ranks} JVMs running {@code mainClass args} under mpirun. */
  public static List<String> command(int ranks, String mainClass, String... args) {
    List<String> cmd = new ArrayList<>(List.of(mpirunOrSkip().toString(), "--oversubscribe", "--bind-to", "none",
        "-np", String.valueOf(ranks), "env")); // env: see MpiLauncher.thisJava
    cmd.addAll(java(mainClass, args));
    return cmd;
  }

  /** The process builder of a job, with the environment every test job needs plus {@code env}. */
  public static ProcessBuilder builder(List<String> command, Map<String, String> env) {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT", "1");
    pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    pb.environment().putAll(env);
    return pb;
  }

  /** A JVM (not under mpirun) running {@code mainClass args} with the test class path. */
  public static List<String> java(String mainClass, String... args) {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), mainClass));
    cmd.addAll(Arrays.asList(args));
    return cmd;
  }

  /** Runs a job to its end (failing the test after {@code timeoutSeconds}). */
  public static Outcome run(List<String> command, Map<String, String> env, long timeoutSeconds)
      throws IOException, InterruptedException {
    long start = System.nanoTime();
    Process p = builder(command, env).start();
    StringBuilder output = new StringBuilder();
    Thread reader = drain(p, output);
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      reader.join(5000);
      fail("the job did not end within " + timeoutSeconds + " s: " + command + "\n" + output);
    }
    reader.join(5000);
    return new Outcome(p.exitValue(), output.toString(), (System.nanoTime() - start) / 1e9);
  }

  /** Copies the process's output into {@code into} on a thread of its own. */
  public static Thread drain(Process p, StringBuilder into) {
    Thread t = new Thread(() -> {
      try {
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        synchronized (into) {
          into.append(text);
        }
      } catch (IOException e) {
        synchronized (into) {
          into.append("[output lost: ").append(e.getMessage()).append(']');
        }
      }
    }, "mpirun-output");
    t.setDaemon(true);
    t.start();
    return t;
  }

  /**
   * Writes the toy corpus and a tiny GPT-2 config (1 layer, 32 wide, batch 2 per rank, a log line
   * every step, no evaluation, no checkpoints before the last step; {@code settings} override any
   * of these) into {@code dir} and returns the arguments of {@code train} on them, writing to
   * {@code dir/run}.
   */
  public static List<String> tinyGpt2Train(Path dir, Map<String, Object> settings) throws IOException {
    Path corpus = dir.resolve("corpus.txt");
    Files.write(corpus, TextSource.bundledLines("toy_corpus.txt"));
    Map<String, Object> config = new LinkedHashMap<>(Map.of("n_layer", 1, "n_embd", 32, "n_head", 2, "n_positions", 32,
        "per_device_train_batch_size", 2, "logging_steps", 1, "eval_strategy", "no", "save_strategy", "no"));
    config.putAll(settings);
    Path file = dir.resolve("config.json");
    Files.writeString(file, new ObjectMapper().writeValueAsString(config));
    return List.of("train", "--model", "gpt2", "--corpus", corpus.toString(), "--train-tokenizer", "--vocab-size", "300",
        "--config", file.toString(), "--mode", "lines", "--context-length", "24", "--output",
        dir.resolve("run").toString());
  }

  /** Waits (at most 180 s) until the job's rank 0 has logged a training step into {@code metrics}. */
  public static void awaitFirstStep(Process job, Path metrics, StringBuilder output) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    while (!Files.isRegularFile(metrics) || Files.size(metrics) == 0) {
      if (!job.isAlive() || System.nanoTime() > deadline) {
        job.waitFor(5, TimeUnit.SECONDS);
        fail("the job never logged a step:\n" + output);
      }
      Thread.sleep(200);
    }
  }
}
