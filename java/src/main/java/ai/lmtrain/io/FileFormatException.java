package ai.lmtrain.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file exists but its content breaks a rule of its format (a corrupt safetensors header, a
 * config.json with a wrong value, a malformed metrics line). The message names the file and the
 * rule: {@code "<file>: <what was expected>"}.
 */
public class FileFormatException extends IOException {
  private final Path file;

  /** A format error in {@code file}; {@code problem} says what was expected. */
  public FileFormatException(Path file, String problem) {
    super(file + ": " + problem);
    this.file = file;
  }

  /** The same, keeping the low-level cause (a JSON parse error, for example). */
  public FileFormatException(Path file, String problem, Throwable cause) {
    super(file + ": " + problem, cause);
    this.file = file;
  }

  /** The offending file. */
  public Path file() {
    return file;
  }
}
