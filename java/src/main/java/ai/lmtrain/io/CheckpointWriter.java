package ai.lmtrain.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Writes a checkpoint folder (model.safetensors, config.json, tokenizer.json, trainer state ...)
 * so that a crash at any moment never leaves a half-written checkpoint.
 *
 * <p>Protocol for target {@code dir/name}:
 *
 * <ol>
 *   <li>{@link #recover} leftovers of an earlier interrupted save;
 *   <li>the caller writes every file into the staging sibling {@code dir/.name.saving};
 *   <li>all staged files and folders are fsynced;
 *   <li>an existing target is renamed aside to {@code dir/.name.replaced};
 *   <li>staging is renamed to the target and {@code dir} is fsynced;
 *   <li>the aside copy is deleted.
 * </ol>
 *
 * <p>A crash before step 5 leaves the previous checkpoint at the target (or, between steps 4 and
 * 5, at the aside name, which {@link #recover} moves back). A failure inside the caller's writer
 * removes the staging folder and rethrows. One writer per target at a time.
 */
public final class CheckpointWriter {
  private CheckpointWriter() {}

  /** Fills a fresh, empty folder with the checkpoint's files. */
  @FunctionalInterface
  public interface FolderWriter {
    /** Writes the checkpoint files into {@code folder} (the staging folder, not the target). */
    void writeInto(Path folder) throws IOException;
  }

  /**
   * Atomically replaces the folder {@code target} with the files {@code contents} writes.
   *
   * @throws IOException from the writer (after removing the staging folder) or from the file system
   * @throws IllegalArgumentException when {@code target} exists and is not a folder
   */
  public static void write(Path target, FolderWriter contents) throws IOException {
    Path absolute = target.toAbsolutePath().normalize();
    if (Files.exists(absolute, LinkOption.NOFOLLOW_LINKS)
        && !Files.isDirectory(absolute, LinkOption.NOFOLLOW_LINKS)) {
      throw new IllegalArgumentException("checkpoint target '" + target
          + "' exists and is not a folder (expected a checkpoint folder or a new path)");
    }
    recover(absolute);
    Path parent = AtomicFiles.parentOf(absolute);
    Files.createDirectories(parent);
    Path staging = stagingFolder(absolute);
    Path aside = asideFolder(absolute);
    Files.createDirectory(staging);
    try {
      contents.writeInto(staging);
      AtomicFiles.fsyncTree(staging);
    } catch (IOException | RuntimeException | Error e) {
      AtomicFiles.deleteQuietly(staging, e);
      throw e;
    }
    boolean replacing = Files.exists(absolute, LinkOption.NOFOLLOW_LINKS);
    if (replacing) {
      AtomicFiles.moveAtomically(absolute, aside);
    }
    try {
      AtomicFiles.moveAtomically(staging, absolute);
      AtomicFiles.fsyncDirectory(parent);
    } catch (IOException | RuntimeException | Error e) {
      if (replacing && !Files.exists(absolute, LinkOption.NOFOLLOW_LINKS)) {
        try {
          AtomicFiles.moveAtomically(aside, absolute);
        } catch (IOException restoreFailure) {
          e.addSuppressed(restoreFailure);
        }
      }
      AtomicFiles.deleteQuietly(staging, e);
      throw e;
    }
    AtomicFiles.deleteTree(aside);
  }

  /**
   * Repairs what an interrupted {@link #write} to {@code target} left behind: removes a staging
   * folder, restores the previous checkpoint from the aside name when the target is missing, and
   * removes a stale aside copy when the target is present. Safe to call at any time when no save
   * to {@code target} is running; loaders may call it before reading.
   */
  public static void recover(Path target) throws IOException {
    Path absolute = target.toAbsolutePath().normalize();
    AtomicFiles.deleteTree(stagingFolder(absolute));
    Path aside = asideFolder(absolute);
    if (Files.exists(aside, LinkOption.NOFOLLOW_LINKS)) {
      if (Files.exists(absolute, LinkOption.NOFOLLOW_LINKS)) {
        AtomicFiles.deleteTree(aside);
      } else {
        AtomicFiles.moveAtomically(aside, absolute);
        AtomicFiles.fsyncDirectory(AtomicFiles.parentOf(absolute));
      }
    }
  }

  /** Where a save to {@code target} stages its files: the hidden sibling {@code .name.saving}. */
  static Path stagingFolder(Path target) {
    return target.resolveSibling("." + target.getFileName() + ".saving");
  }

  /** Where a save moves the previous checkpoint during the swap: {@code .name.replaced}. */
  static Path asideFolder(Path target) {
    return target.resolveSibling("." + target.getFileName() + ".replaced");
  }
}
