package ai.lmtrain.cli;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code lmtrain launch --nproc-per-node N -- train ...}: starts N ranks of {@code train} on this
 * machine through Open MPI's mpirun, each in a JVM like this one (same java, class path and JVM
 * options), and returns mpirun's exit code. mpirun gets {@code -np N --bind-to none} (each rank's
 * thread pool takes its share of the cores), {@code --oversubscribe} when N exceeds the cores, and
 * {@code --allow-run-as-root} for root. If this process is terminated (SIGTERM, SIGINT), mpirun is
 * terminated too, which ends the ranks.
 */
@Command(name = "launch", mixinStandardHelpOptions = true,
    description = {"Start N local ranks of 'lmtrain train' under mpirun (data-parallel training).",
        "Example: lmtrain launch --nproc-per-node 2 -- train --model gpt2 --corpus c.txt --train-tokenizer --output out"})
final class LaunchCommand implements Callable<Integer> {
  /** How long mpirun may take to end its ranks after this process was terminated. */
  private static final long STOP_GRACE_SECONDS = 30;

  @Spec CommandSpec spec;

  @Option(names = "--nproc-per-node", required = true, paramLabel = "N", description = "ranks to start on this machine")
  int nproc;

  @Option(names = "--mpirun", paramLabel = "PATH", description = "the mpirun to use (default: mpirun on the PATH)")
  Path mpirun;

  @Option(names = "--mpirun-arg", paramLabel = "ARG", description = "an extra argument for mpirun (repeatable),"
      + " e.g. --mpirun-arg=--mca --mpirun-arg=btl_tcp_if_include --mpirun-arg=eth0")
  List<String> mpirunArgs = new ArrayList<>();

  @Option(names = "--dry-run", description = "print the mpirun command instead of running it")
  boolean dryRun;

  @Parameters(arity = "1..*", paramLabel = "-- train ARGS", description = "the command each rank runs")
  List<String> command;

  @Override
  public Integer call() throws Exception {
    if (nproc < 1) {
      throw new IllegalArgumentException("--nproc-per-node must be >= 1 (got " + nproc + ")");
    }
    if (!command.get(0).equals("train")) {
      throw new IllegalArgumentException("launch starts 'train' (the one data-parallel command), got '"
          + command.get(0) + "'; usage: lmtrain launch --nproc-per-node N -- train ...");
    }
    List<String> cmd = mpirunCommand(resolveMpirun(), nproc, Runtime.getRuntime().availableProcessors(),
        "root".equals(System.getProperty("user.name")), mpirunArgs, javaCommand(), command);
    var err = spec.commandLine().getErr();
    if (dryRun) {
      spec.commandLine().getOut().println(String.join(" ", cmd));
      spec.commandLine().getOut().flush();
      return 0;
    }
    err.println("lmtrain launch: " + String.join(" ", cmd));
    err.flush();
    Process job = new ProcessBuilder(cmd).inheritIO().start();
    Thread stopJob = new Thread(() -> stop(job), "lmtrain-launch-stop");
    Runtime.getRuntime().addShutdownHook(stopJob);
    try {
      return job.waitFor();
    } finally {
      if (!job.isAlive()) {
        Runtime.getRuntime().removeShutdownHook(stopJob);
      }
    }
  }

  /** Terminates mpirun (it ends its ranks), and kills it if it has not ended within the grace period. */
  private static void stop(Process job) {
    if (!job.isAlive()) {
      return;
    }
    job.destroy();
    try {
      if (!job.waitFor(STOP_GRACE_SECONDS, TimeUnit.SECONDS)) {
        job.descendants().forEach(ProcessHandle::destroyForcibly);
        job.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The mpirun command line: {@code MPIRUN [--allow-run-as-root] [--oversubscribe] --bind-to none
   * -np N EXTRA... JAVA... COMMAND...}.
   */
  static List<String> mpirunCommand(Path mpirun, int nproc, int cores, boolean root, List<String> extra,
      List<String> java, List<String> command) {
    List<String> cmd = new ArrayList<>(List.of(mpirun.toString()));
    if (root) {
      cmd.add("--allow-run-as-root");
    }
    if (nproc > cores) {
      cmd.add("--oversubscribe");
    }
    cmd.addAll(List.of("--bind-to", "none", "-np", String.valueOf(nproc)));
    cmd.addAll(extra);
    cmd.addAll(java);
    cmd.addAll(command);
    return cmd;
  }

  private Path resolveMpirun() {
    if (mpirun != null) {
      if (!Files.isExecutable(mpirun)) {
        throw new IllegalArgumentException("--mpirun " + mpirun + " is not an executable file");
      }
      return mpirun;
    }
    return onPath("mpirun").orElseThrow(() -> new IllegalStateException("lmtrain launch needs Open MPI's mpirun, which"
        + " is not on the PATH (apt-get install openmpi-bin libopenmpi-dev), or pass --mpirun PATH"));
  }

  private static Optional<Path> onPath(String program) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, program);
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** This JVM's java, options (debugger and agent options left out) and class path, running the CLI. */
  private static List<String> javaCommand() {
    String java = ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> out = new ArrayList<>(List.of(java));
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (!arg.startsWith("-agentlib") && !arg.startsWith("-javaagent") && !arg.startsWith("-Xrunjdwp")
          && !arg.startsWith("-Xdebug")) {
        out.add(arg);
      }
    }
    out.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
    return out;
  }
}
