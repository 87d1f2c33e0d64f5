package ai.lmtrain.tokenizers;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/** Writes files atomically: a temporary file in the same folder, fsync, then rename. */
final class AtomicFiles {

  private AtomicFiles() {}

  /**
   * Writes {@code text} as UTF-8 to {@code file}, replacing it atomically.
   *
   * @throws TokenizerException if the file cannot be written
   */
  static void writeString(Path file, String text) {
    Path dir = file.toAbsolutePath().getParent();
    Path tmp = null;
    try {
      Files.createDirectories(dir);
      tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        ch.write(StandardCharsets.UTF_8.encode(text));
        ch.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      try {
        if (tmp != null) {
          Files.deleteIfExists(tmp);
        }
      } catch (IOException ignored) {
        // the original error is the one to report
      }
      throw new TokenizerException(file + ": cannot write (" + e.getMessage() + ")", e);
    }
  }
}
