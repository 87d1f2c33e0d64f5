package ai.lmtrain.train.dist;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Command lines that start local ranks through Open MPI's mpirun ({@code lmtrain launch}, {@code
 * bench dist}): {@code mpirun [--allow-run-as-root] [--oversubscribe] --bind-to none -np N ...}.
 * {@code --bind-to none}: Open MPI would otherwise bind each of up to two ranks to one core, and
 * each rank's thread pool takes its share of the cores itself ({@link DistributedRuntime});
 * {@code --oversubscribe} when there are more ranks than cores (Open MPI refuses otherwise);
 * {@code --allow-run-as-root} for root (containers, CI).
 */
public final class MpiLauncher {
  private MpiLauncher() {}

  /** mpirun on the PATH. */
  public static Optional<Path> findMpirun() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, "mpirun");
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** mpirun on the PATH, or an error saying what to install. */
  public static Path requireMpirun(String who) {
    return findMpirun().orElseThrow(() -> new IllegalStateException(who + " needs Open MPI's mpirun, which is not on"
        + " the PATH (apt-get install openmpi-bin libopenmpi-dev)"));
  }

  /** Whether this process runs as root (mpirun then needs --allow-run-as-root). */
  public static boolean runningAsRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  /** {@code MPIRUN [--allow-run-as-root] [--oversubscribe] --bind-to none -np N EXTRA... PROGRAM...}. */
  public static List<String> command(Path mpirun, int ranks, int cores, boolean root, List<String> extra,
      List<String> program) {
    List<String> cmd = new ArrayList<>(List.of(mpirun.toString()));
    if (root) {
      cmd.add("--allow-run-as-root");
    }
    if (ranks > cores) {
      cmd.add("--oversubscribe");
    }
    cmd.addAll(List.of("--bind-to", "none", "-np", String.valueOf(ranks)));
    cmd.addAll(extra);
    cmd.addAll(program);
    return cmd;
  }

  /**
   * A JVM like this one running {@code mainClass}: the same java, JVM options (debugger and agent
   * options left out: a second JVM cannot take the same debug port) and class path, started
   * through {@code env}. Open MPI's mpirun rewrites the arguments of a program called java (4.1.4:
   * the argument after any argument containing "cp" gets the working directory prefixed, as if it
   * were a class path, which breaks {@code -Dorg.bytedeco.javacpp.cachedir=... -jar ...}); through
   * env it starts the JVM with its arguments as given.
   */
  public static List<String> thisJava(String mainClass) {
    String java = ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> out = new ArrayList<>(List.of("env", java));
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (!arg.startsWith("-agentlib") && !arg.startsWith("-javaagent") && !arg.startsWith("-Xrunjdwp")
          && !arg.startsWith("-Xdebug")) {
        out.add(arg);
      }
    }
    out.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
    return out;
  }
}
