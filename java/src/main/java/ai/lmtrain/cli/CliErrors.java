package ai.lmtrain.cli;

import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import picocli.CommandLine;

/**
 * Turns an exception thrown by a command into one line on stderr, "error: message", and exit
 * code 1; a usage error (unknown flag, bad or out-of-range value) into one line and exit code 2.
 * File-system errors name the file and the reason. The stack trace is printed only with {@code
 * LMTRAIN_DEBUG=1}.
 */
final class CliErrors implements CommandLine.IExecutionExceptionHandler {
  @Override
  public int handleExecutionException(Exception ex, CommandLine cmd, CommandLine.ParseResult parseResult) {
    cmd.getErr().println("error: " + message(ex));
    if ("1".equals(System.getenv("LMTRAIN_DEBUG"))) {
      ex.printStackTrace(cmd.getErr());
    }
    cmd.getErr().flush();
    return 1;
  }

  /** A usage error: "error: message (see 'lmtrain CMD --help')", exit code 2. */
  static int usageError(CommandLine.ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    cmd.getErr().println("error: " + ex.getMessage() + " (see '" + cmd.getCommandSpec().qualifiedName() + " --help')");
    cmd.getErr().flush();
    return 2;
  }

  /**
   * The one-line message of {@code ex}. Java's file-system exceptions often carry only a path
   * ("error: /a/b"); they get the reason their type stands for. Wrapped I/O errors keep their cause.
   */
  static String message(Throwable ex) {
    if (ex instanceof java.io.UncheckedIOException unchecked && unchecked.getCause() != null
        && ex.getMessage() == null) {
      return message(unchecked.getCause());
    }
    if (ex instanceof FileSystemException fs) {
      String reason = fs.getReason() != null ? fs.getReason()
          : ex instanceof NoSuchFileException ? "no such file or folder"
          : ex instanceof AccessDeniedException ? "permission denied"
          : ex instanceof FileAlreadyExistsException ? "already exists"
          : ex instanceof NotDirectoryException ? "not a folder"
          : ex instanceof DirectoryNotEmptyException ? "folder not empty"
          : ex.getClass().getSimpleName();
      return fs.getFile() + (fs.getOtherFile() != null ? " -> " + fs.getOtherFile() : "") + ": " + reason;
    }
    return ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
  }
}
