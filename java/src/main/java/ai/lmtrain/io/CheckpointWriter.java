package ai.lmtrain.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a checkpoint folder (model.safetensors, config.json, tokenizer.json, trainer state ...)
 * so that a crash at any moment leaves a folder that {@link #recover} turns back into a complete
 * checkpoint: the new one when it was completely written, the previous one otherwise.
 *
 * <p>Protocol for target {@code dir/name} (each numbered state is a possible kill point):
 *
 * <ol>
 *   <li>{@link #recover} leftovers of an earlier interrupted save;
 *   <li>the caller writes every file into the staging sibling {@code dir/.name.saving}
 *       ({@link Step#STAGED});
 *   <li>all staged files are fsynced, then {@value SaveManifest#FILE_NAME} (every file's size and
 *       CRC-32C) is written last and fsynced: the staging folder is now sealed ({@link Step#SEALED});
 *   <li>an existing target is renamed aside to {@code dir/.name.replaced} ({@link Step#MOVED_ASIDE});
 *   <li>the staging folder is renamed to the target and {@code dir} is fsynced ({@link Step#SWAPPED});
 *   <li>the aside copy is deleted ({@link Step#DONE}).
 * </ol>
 *
 * <p>{@link #recover} picks the newest complete folder: a sealed staging folder whose files match
 * its manifest (kill after step 3 or 4), else the target, else the aside copy (kill after step 4
 * with an unsealed or damaged staging folder); it deletes the rest. A failure inside the caller's
 * writer removes the staging folder and rethrows. One writer per target at a time.
 */
public final class CheckpointWriter {
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointWriter.class);

  /** The states of a save after each step of the protocol (see the class comment). */
  enum Step {
    /** Every file written into the staging folder, not yet sealed. */
    STAGED,
    /** The staging folder sealed by its manifest. */
    SEALED,
    /** The previous target renamed aside (only when there was one). */
    MOVED_ASIDE,
    /** The staging folder renamed to the target. */
    SWAPPED,
    /** The aside copy deleted: the save is over. */
    DONE
  }

  /** Observes a save between its steps: the seam through which tests inject a crash at each step. */
  @FunctionalInterface
  interface Probe {
    /** Called after {@code step} of a save to {@code target} (an absolute path). */
    void reached(Step step, Path target) throws IOException;
  }

  /** The probe every save calls; tests replace it (see the test helper {@code SaveKillPoints}). */
  static volatile Probe probe = (step, target) -> { };

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
   * @throws IllegalArgumentException when {@code target} exists and is not a folder (a file or a
   *     symbolic link)
   */
  public static void write(Path target, FolderWriter contents) throws IOException {
    Path absolute = target.toAbsolutePath().normalize();
    requireFolderOrAbsent(absolute);
    recover(absolute);
    Path parent = AtomicFiles.parentOf(absolute);
    Files.createDirectories(parent);
    Path staging = stagingFolder(absolute);
    Path aside = asideFolder(absolute);
    Files.createDirectory(staging);
    try {
      contents.writeInto(staging);
      AtomicFiles.fsyncTree(staging);
      probe.reached(Step.STAGED, absolute);
      SaveManifest.write(staging);
    } catch (IOException | RuntimeException | Error e) {
      AtomicFiles.deleteQuietly(staging, e);
      throw e;
    }
    probe.reached(Step.SEALED, absolute);
    boolean replacing = Files.exists(absolute, LinkOption.NOFOLLOW_LINKS);
    if (replacing) {
      AtomicFiles.moveAtomically(absolute, aside);
      probe.reached(Step.MOVED_ASIDE, absolute);
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
    probe.reached(Step.SWAPPED, absolute);
    AtomicFiles.deleteTree(aside);
    probe.reached(Step.DONE, absolute);
  }

  /**
   * Repairs what an interrupted {@link #write} to {@code target} left behind, keeping the newest
   * complete folder: a sealed staging folder whose files match its manifest replaces the target;
   * otherwise the staging folder is deleted and, when the target is missing, the aside copy is
   * moved back. Every step is idempotent, so a crash during recovery is repaired by the next one.
   * Safe to call whenever no save to {@code target} is running; loaders call it before reading.
   *
   * @throws IllegalArgumentException when {@code target} exists and is not a folder
   */
  public static void recover(Path target) throws IOException {
    Path absolute = target.toAbsolutePath().normalize();
    requireFolderOrAbsent(absolute);
    Path parent = AtomicFiles.parentOf(absolute);
    Path staging = stagingFolder(absolute);
    Path aside = asideFolder(absolute);
    boolean targetExists = Files.exists(absolute, LinkOption.NOFOLLOW_LINKS);
    if (Files.isDirectory(staging, LinkOption.NOFOLLOW_LINKS)) {
      String problem = SaveManifest.problem(staging);
      if (problem == null) {
        // The interrupted save was complete: finish its swap.
        if (targetExists) {
          AtomicFiles.deleteTree(aside);
          AtomicFiles.moveAtomically(absolute, aside);
        }
        AtomicFiles.moveAtomically(staging, absolute);
        AtomicFiles.fsyncDirectory(parent);
        AtomicFiles.deleteTree(aside);
        LOG.info("{}: completed an interrupted save from {}", absolute, staging.getFileName());
        return;
      }
      LOG.info("{}: discarding the interrupted save {}: {}", absolute, staging.getFileName(), problem);
      AtomicFiles.deleteTree(staging);
    }
    if (Files.exists(aside, LinkOption.NOFOLLOW_LINKS)) {
      if (targetExists) {
        AtomicFiles.deleteTree(aside);
      } else {
        AtomicFiles.moveAtomically(aside, absolute);
        AtomicFiles.fsyncDirectory(parent);
        LOG.info("{}: restored the previous save from {}", absolute, aside.getFileName());
      }
    }
  }

  private static void requireFolderOrAbsent(Path absolute) {
    if (Files.exists(absolute, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(absolute, LinkOption.NOFOLLOW_LINKS)) {
      throw new IllegalArgumentException("'" + absolute + "' exists and is not a folder (expected a saved folder"
          + " or a new path" + (Files.isSymbolicLink(absolute) ? "; symbolic links are not followed)" : ")"));
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
