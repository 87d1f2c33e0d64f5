package ai.lmtrain.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code lmtrain} command line: one picocli command with a subcommand per task.
 *
 * <p>Exit codes: 0 success, 1 a failure while running, 2 bad usage (unknown flag, bad value).
 */
@Command(
    name = "lmtrain",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Pre-train BERT (masked LM) and GPT-2 (causal LM) models on hand-written CUDA and C++ kernels.",
    subcommands = {
      CommandLine.HelpCommand.class,
      DevicesCommand.class,
      TokenizeCommand.class,
      TrainTokenizerCommand.class,
      PrepareDataCommand.class,
      BenchCommand.class,
      SelftestCommand.class,
      LabCommand.class,
      TrainCommand.class,
      LaunchCommand.class,
      FinetuneCommand.class,
      ClassifyCommand.class,
      EvalCommand.class,
      FillMaskCommand.class,
      NextTokenCommand.class,
      GenerateCommand.class,
      PlotCommand.class,
    })
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** Builds the configured command line (also used by tests to run commands in-process). */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler(new CliErrors());
    cl.setParameterExceptionHandler(CliErrors::usageError);
    return cl;
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }
}
