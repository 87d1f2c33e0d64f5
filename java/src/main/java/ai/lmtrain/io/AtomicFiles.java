package ai.lmtrain.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Crash-safe file writes: content goes to a temporary sibling, is forced to disk, then renamed
 * over the target in one atomic step. A reader sees either the old file or the complete new one,
 * never a half-written file.
 */
public final class AtomicFiles {
  private AtomicFiles() {}

  /** Writes the content of a file through an open channel positioned at 0. */
  @FunctionalInterface
  public interface ChannelWriter {
    /** Writes the whole content; the caller forces and closes the channel. */
    void write(FileChannel channel) throws IOException;
  }

  /**
   * Atomically replaces {@code target} with the bytes {@code writer} produces: temp file in the
   * same folder, fsync, rename, fsync of the folder. On any failure the temp file is removed and
   * the previous {@code target} (if any) is untouched.
   */
  public static void write(Path target, ChannelWriter writer) throws IOException {
    requireNotSymbolicLink(target);
    Path dir = parentOf(target);
    Files.createDirectories(dir);
    Path temp = dir.resolve("." + target.getFileName() + ".tmp-" + randomSuffix());
    try {
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
          LinkOption.NOFOLLOW_LINKS)) {
        writer.write(channel);
        channel.force(true);
      }
      moveAtomically(temp, target);
      fsyncDirectory(dir);
    } catch (IOException e) {
      deleteQuietly(temp, e);
      throw namingTheFile(target, e);
    } catch (RuntimeException | Error e) {
      deleteQuietly(temp, e);
      throw e;
    }
  }

  /**
   * Refuses a path that is a symbolic link: output files are never written through a link (which
   * could point anywhere) nor silently replace one.
   */
  public static void requireNotSymbolicLink(Path path) throws FileSystemException {
    if (Files.isSymbolicLink(path)) {
      throw new FileSystemException(path.toString(), null,
          "is a symbolic link; lmtrain does not write through or over links (remove it or choose another path)");
    }
  }

  /**
   * {@code e} if its message names a file already, else an IOException whose message starts with
   * {@code file} (an error such as "No space left on device" names nothing).
   */
  static IOException namingTheFile(Path file, IOException e) {
    if (e instanceof FileSystemException || e instanceof FileFormatException) {
      return e;
    }
    return new IOException(file + ": cannot write (" + e.getMessage() + ")", e);
  }

  /** Atomically replaces {@code target} with {@code text} encoded as UTF-8. */
  public static void writeString(Path target, String text) throws IOException {
    ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
    write(target, channel -> writeFully(channel, bytes));
  }

  /** Writes all remaining bytes of {@code buffer} (channels may write partially). */
  public static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
  }

  /** Renames {@code source} to {@code target} atomically, replacing an existing file. */
  static void moveAtomically(Path source, Path target) throws IOException {
    try {
      Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("cannot rename " + source + " to " + target
          + " atomically (are they on the same file system?)", e);
    }
  }

  /** Forces the directory entry changes (renames, creations) of {@code dir} to disk. */
  static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException e) {
      // Some platforms (Windows) cannot open a directory for reading; the rename is still atomic.
      if (!System.getProperty("os.name", "").startsWith("Windows")) {
        throw e;
      }
    }
  }

  /** Forces every file and folder under {@code root} (inclusive) to disk. */
  static void fsyncTree(Path root) throws IOException {
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        if (attrs.isRegularFile()) {
          // fsync needs no write access; READ also works for read-only files.
          try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            channel.force(true);
          }
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException failure) throws IOException {
        if (failure != null) {
          throw failure;
        }
        fsyncDirectory(dir);
        return FileVisitResult.CONTINUE;
      }
    });
  }

  /**
   * Deletes {@code root} and everything under it, never following symbolic links (a link is
   * deleted, not its target); a missing {@code root} is not an error.
   */
  public static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.deleteIfExists(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException failure) throws IOException {
        if (failure != null && !(failure instanceof NoSuchFileException)) {
          throw failure;
        }
        Files.deleteIfExists(dir);
        return FileVisitResult.CONTINUE;
      }
    });
  }

  /** Deletes {@code path} (file or folder tree), recording a failure on {@code primary}. */
  static void deleteQuietly(Path path, Throwable primary) {
    try {
      deleteTree(path);
    } catch (IOException cleanupFailure) {
      primary.addSuppressed(cleanupFailure);
    }
  }

  /** The absolute parent folder of {@code path}. */
  static Path parentOf(Path path) {
    Path parent = path.toAbsolutePath().getParent();
    if (parent == null) {
      throw new IllegalArgumentException("'" + path + "' has no parent folder");
    }
    return parent;
  }

  private static String randomSuffix() {
    byte[] bytes = new byte[6];
    ThreadLocalRandom.current().nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }
}
