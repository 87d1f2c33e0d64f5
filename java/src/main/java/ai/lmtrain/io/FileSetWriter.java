package ai.lmtrain.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replaces a named set of files inside a folder that may hold other files too (a tokenizer's files
 * in a user's folder), all or nothing across a crash, and never touching the other files.
 *
 * <p>Protocol for the set {@code NAME} of files {@code names} in {@code dir}:
 *
 * <ol>
 *   <li>{@link #recover} what an earlier interrupted write left;
 *   <li>the caller writes the new files into the staging folder {@code dir/.NAME.saving}, which is
 *       fsynced and sealed by {@value SaveManifest#FILE_NAME} (as {@link CheckpointWriter} seals a
 *       checkpoint);
 *   <li>each of {@code names}, in the order given, is replaced by its staged copy (temporary file,
 *       fsync, rename), or deleted when the new set has no such file;
 *   <li>the staging folder is deleted.
 * </ol>
 *
 * <p>{@link #recover} finishes step 3 from a sealed staging folder whose files match its manifest
 * (copies are idempotent), and deletes an unsealed one (step 3 had not begun, so the old set is
 * untouched). Between a kill in step 3 and that recovery, files of both sets lie side by side;
 * ordering the names puts the file a reader consults first (a tokenizer's tokenizer.json) first, so
 * that such a reader sees the old or the new set whole. One writer per folder at a time (see {@link
 * FolderLock}).
 */
public final class FileSetWriter {
  private static final Logger LOG = LoggerFactory.getLogger(FileSetWriter.class);

  /** Observes a write between its steps: the seam through which tests take a crash's snapshot. */
  @FunctionalInterface
  interface Probe {
    /** Called after the staging folder is sealed ("sealed") and after each name is applied (the name). */
    void reached(String step) throws IOException;
  }

  /** The probe every write calls; tests replace it. */
  static volatile Probe probe = step -> { };

  private FileSetWriter() {}

  /**
   * Replaces the files {@code names} of {@code dir} (created when missing) with those {@code
   * contents} writes into an empty staging folder; a name it does not write is deleted from {@code
   * dir}. Every other file of {@code dir} is left as it is.
   *
   * @param setName names the staging folder {@code .setName.saving}
   * @throws IllegalStateException when {@code contents} writes a file outside {@code names}
   * @throws FileSystemException when one of {@code names} in {@code dir} is a symbolic link or a folder
   */
  public static void write(Path dir, String setName, List<String> names, CheckpointWriter.FolderWriter contents)
      throws IOException {
    recover(dir, setName, names);
    requireReplaceable(dir, names);
    Files.createDirectories(dir);
    Path staging = stagingFolder(dir, setName);
    Files.createDirectory(staging);
    try {
      contents.writeInto(staging);
      try (DirectoryStream<Path> staged = Files.newDirectoryStream(staging)) {
        for (Path file : staged) {
          if (!names.contains(file.getFileName().toString()) || !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalStateException(file + " is not one of the files " + names + " of the set " + setName);
          }
        }
      }
      AtomicFiles.fsyncTree(staging);
      SaveManifest.write(staging);
    } catch (IOException | RuntimeException | Error e) {
      AtomicFiles.deleteQuietly(staging, e);
      throw e;
    }
    probe.reached("sealed");
    apply(dir, staging, names);
    AtomicFiles.deleteTree(staging);
  }

  /**
   * Finishes or undoes what an interrupted {@link #write} of the set {@code setName} to {@code dir}
   * left (see the class comment). Safe whenever no write to {@code dir} is running.
   */
  public static void recover(Path dir, String setName, List<String> names) throws IOException {
    Path staging = stagingFolder(dir, setName);
    if (!Files.isDirectory(staging, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    String problem = SaveManifest.problem(staging);
    if (problem == null) {
      requireReplaceable(dir, names);
      apply(dir, staging, names);
      LOG.info("{}: completed an interrupted replacement of its {} files", dir, setName);
    } else {
      LOG.info("{}: discarding the interrupted replacement {}: {}", dir, staging.getFileName(), problem);
    }
    AtomicFiles.deleteTree(staging);
  }

  /**
   * Refuses a set whose files in {@code dir} could not be replaced as plain files: a symbolic link
   * (never written through nor replaced) or a folder.
   */
  public static void requireReplaceable(Path dir, List<String> names) throws IOException {
    for (String name : names) {
      Path file = dir.resolve(name);
      if (Files.isSymbolicLink(file)) {
        throw new FileSystemException(file.toString(), null, "is a symbolic link; lmtrain does not write through or"
            + " over links (remove it or choose another folder)");
      }
      if (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
        throw new FileSystemException(file.toString(), null, "is a folder where lmtrain writes a file (move it away"
            + " or choose another folder)");
      }
    }
  }

  /** Step 3: each name replaced by its staged copy, or deleted; then the folder's entries forced to disk. */
  private static void apply(Path dir, Path staging, List<String> names) throws IOException {
    for (String name : names) {
      Path source = staging.resolve(name);
      Path target = dir.resolve(name);
      if (Files.isRegularFile(source, LinkOption.NOFOLLOW_LINKS)) {
        AtomicFiles.write(target, out -> {
          try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ)) {
            long size = in.size();
            for (long done = 0; done < size; ) {
              done += in.transferTo(done, size - done, out);
            }
          }
        });
      } else {
        Files.deleteIfExists(target);
      }
      probe.reached(name);
    }
    AtomicFiles.fsyncDirectory(dir);
  }

  private static Path stagingFolder(Path dir, String setName) {
    return dir.resolve("." + setName + ".saving");
  }
}
