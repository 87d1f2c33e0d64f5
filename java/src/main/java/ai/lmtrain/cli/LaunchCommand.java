package ai.lmtrain.cli;

import ai.lmtrain.train.dist.MpiLauncher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code lmtrain launch --nproc-per-node N -- train ...}: starts N ranks of {@code train} on this
 * machine through Open MPI's mpirun (flags as {@link MpiLauncher} sets them), each in a JVM like
 * this one (same java, class path and JVM options), and returns mpirun's exit code. If this
 * process is terminated (SIGTERM, SIGINT), mpirun is terminated too, which ends the ranks.
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
    List<String> program = new ArrayList<>(MpiLauncher.thisJava(Main.class.getName()));
    program.addAll(command);
    List<String> cmd = MpiLauncher.command(resolveMpirun(), nproc, Runtime.getRuntime().availableProcessors(),
        MpiLauncher.runningAsRoot(), mpirunArgs, program);
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

  private Path resolveMpirun() {
    if (mpirun != null) {
      if (!Files.isExecutable(mpirun)) {
        throw new IllegalArgumentException("--mpirun " + mpirun + " is not an executable file");
      }
      return mpirun;
    }
    return MpiLauncher.requireMpirun("lmtrain launch");
  }
}
