package ai.lmtrain.cli;

import picocli.CommandLine;

/**
 * Turns an exception thrown by a command into one line on stderr, "error: message", and exit
 * code 1. The stack trace is printed only with {@code LMTRAIN_DEBUG=1}.
 */
final class CliErrors implements CommandLine.IExecutionExceptionHandler {
  @Override
  public int handleExecutionException(Exception ex, CommandLine cmd, CommandLine.ParseResult parseResult) {
    String message = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
    cmd.getErr().println("error: " + message);
    if ("1".equals(System.getenv("LMTRAIN_DEBUG"))) {
      ex.printStackTrace(cmd.getErr());
    }
    cmd.getErr().flush();
    return 1;
  }
}
