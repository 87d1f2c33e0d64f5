package ai.lmtrain.train.dist;

import static org.junit.jupiter.api.Assertions.fail;

import ai.lmtrain.nativebridge.NativeLibraries;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
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
}
