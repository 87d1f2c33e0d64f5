package ai.lmtrain.train;

import ai.lmtrain.io.AtomicFiles;
import ai.lmtrain.io.CheckpointWriter;
import ai.lmtrain.io.FileFormatException;
import ai.lmtrain.io.FolderLock;
import ai.lmtrain.io.JsonFields;
import ai.lmtrain.io.StrictJson;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * The output folder of a run ({@code train}, {@code lab} and {@code finetune --output}) and the rules that keep
 * a user's files safe:
 *
 * <ul>
 *   <li>a run folder is recognisable: {@value #MANIFEST} is the first file a run writes (folders
 *       of earlier versions are recognised by their {@code checkpoint/} folder);
 *   <li>a new run goes into a new or empty folder only; a non-empty folder that is not a run is
 *       never written into, whatever the flags;
 *   <li>an existing run is continued only with {@link Mode#RESUME} and replaced only with {@link
 *       Mode#OVERWRITE}: the new run is built in a hidden sibling and swapped in whole when it is
 *       complete ({@link #replace}), so until then the old run stays intact and usable, and a failed
 *       or killed new run leaves the old one untouched;
 *   <li>symbolic links inside a run folder are refused, never followed;
 *   <li>a new run that fails before its first optimizer step leaves nothing behind;
 *   <li>one command at a time: a command {@link #claim}s its folder (a {@link FolderLock}) before it
 *       reads, repairs or writes anything in it, so a second command on the same folder fails at
 *       once, naming the holder.
 * </ul>
 */
public final class RunFolder {
  /** The file that marks a folder as an lmtrain run. */
  public static final String MANIFEST = "lmtrain_run.json";

  private static final String FORMAT = "lmtrain-run";

  /** What a command asks of its output folder. */
  public enum Mode {
    /** A fresh run: the folder must be new or empty. */
    NEW,
    /** Continue the run in the folder ({@code --resume}). */
    RESUME,
    /** Replace the run in the folder, or start one in a new or empty folder ({@code --overwrite}). */
    OVERWRITE;

    /** The mode of a command's {@code --resume} and {@code --overwrite} flags. */
    public static Mode of(boolean resume, boolean overwrite) {
      if (resume && overwrite) {
        throw new IllegalArgumentException("--resume and --overwrite exclude each other: --resume continues the run"
            + " in the output folder, --overwrite replaces it");
      }
      return resume ? RESUME : overwrite ? OVERWRITE : NEW;
    }
  }

  private RunFolder() {}

  /**
   * A command's hold on its output folder: the folder's lock, and what {@link #check} found. Closing
   * it releases the lock (and removes what {@link FolderLock#close} removes).
   */
  public static final class Claim implements AutoCloseable {
    private final Path dir;
    private final FolderLock lock;
    private final boolean replacing;

    private Claim(Path dir, FolderLock lock, boolean replacing) {
      this.dir = dir;
      this.lock = lock;
      this.replacing = replacing;
    }

    /**
     * Builds the run: into the folder itself, or, when {@link Mode#OVERWRITE} replaces a run, into a
     * hidden sibling that is swapped in whole when {@code build} returns ({@link #replace}).
     */
    public <T> T build(Builder<T> build) throws IOException {
      return replacing ? replace(dir, build) : build.buildIn(dir);
    }

    @Override
    public void close() throws IOException {
      lock.close();
    }
  }

  /**
   * Takes {@code dir} for a run of {@code command} ("train", "lab", "finetune") in {@code mode}:
   * locks it (see {@link FolderLock}), then {@link #check}s it. Call before anything reads or
   * repairs the folder.
   *
   * @throws IllegalArgumentException from {@link #check}
   * @throws java.nio.file.FileSystemException naming the folder and the holder when another command
   *     holds it
   */
  public static Claim claim(Path dir, Mode mode, String command) throws IOException {
    FolderLock lock = FolderLock.acquire(dir, "lmtrain " + command);
    try {
      return new Claim(dir, lock, check(dir, mode));
    } catch (IOException | RuntimeException e) {
      try {
        lock.close();
      } catch (IOException closeFailure) {
        e.addSuppressed(closeFailure);
      }
      throw e;
    }
  }

  /**
   * Checks that {@code dir} may take a run in {@code mode}, after repairing what an interrupted
   * {@link #replace} left. Creates nothing. Commands call it through {@link #claim}, under the lock.
   *
   * @return whether {@code dir} holds a run that {@link Mode#OVERWRITE} must replace
   * @throws IllegalArgumentException naming the folder and what to do instead
   */
  public static boolean check(Path dir, Mode mode) throws IOException {
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new IllegalArgumentException("--output " + dir + " exists and is not a folder (expected a new, empty or"
          + " run folder)");
    }
    if (!Files.isSymbolicLink(dir)) {
      CheckpointWriter.recover(dir);
    }
    boolean empty = !Files.exists(dir) || isEmpty(dir);
    if (empty) {
      if (mode == Mode.RESUME) {
        throw new IllegalArgumentException("nothing to resume: " + dir + " holds no run (train without --resume"
            + " first)");
      }
      return false;
    }
    if (!holdsRun(dir)) {
      throw new IllegalArgumentException("--output " + dir + " is a non-empty folder that is not an lmtrain run (no "
          + MANIFEST + "); lmtrain never writes into such a folder, so that none of its files is overwritten:"
          + " choose a new or empty folder");
    }
    requireNoSymbolicLinks(dir);
    if (mode == Mode.NEW) {
      throw new IllegalArgumentException("--output " + dir + " already holds an lmtrain run; pass --resume to"
          + " continue it or --overwrite to replace it (or choose another folder)");
    }
    return mode == Mode.OVERWRITE;
  }

  /**
   * Replaces the run in {@code dir} atomically: {@code build} writes the new run into a fresh
   * hidden sibling folder, which is sealed and swapped in only when {@code build} returns (the
   * protocol of {@link CheckpointWriter}). If {@code build} fails, its folder is deleted and the
   * old run is untouched; if the process is killed, the next {@link #check} of {@code dir} keeps
   * the old run (or finishes a swap that was complete).
   */
  static <T> T replace(Path dir, Builder<T> build) throws IOException {
    Object[] result = new Object[1];
    CheckpointWriter.write(dir, staging -> result[0] = build.buildIn(staging));
    @SuppressWarnings("unchecked")
    T value = (T) result[0];
    return value;
  }

  /** Builds a run into a folder. */
  @FunctionalInterface
  public interface Builder<T> {
    /** Writes the whole run into {@code folder} and returns what the caller needs of it. */
    T buildIn(Path folder) throws IOException;
  }

  /**
   * Starts a run of {@code kind} ("train", "lab", "finetune") in {@code dir} ({@link #check}ed for {@code mode} first): creates
   * the folder and writes {@value #MANIFEST} for a new run; checks a resumed one.
   *
   * @return true when this call created the run (so a failure before it trained may remove it)
   */
  public static boolean begin(Path dir, Mode mode, String kind) throws IOException {
    check(dir, mode == Mode.RESUME ? Mode.RESUME : Mode.NEW);
    if (mode == Mode.RESUME) {
      return false;
    }
    Files.createDirectories(dir);
    ObjectNode manifest = StrictJson.MAPPER.createObjectNode().put("format", FORMAT).put("version", 1)
        .put("kind", kind).put("created", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
    AtomicFiles.writeString(dir.resolve(MANIFEST), manifest.toPrettyString() + "\n");
    return true;
  }

  /**
   * Removes what a run that {@link #begin} created left in {@code dir}, returning the folder to
   * empty (a failure before the first step must leave nothing behind). Errors are added to {@code
   * failure}.
   */
  public static void discard(Path dir, Throwable failure) {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path entry : entries) {
        AtomicFiles.deleteTree(entry);
      }
    } catch (IOException e) {
      failure.addSuppressed(e);
    }
  }

  /** Whether {@code dir} holds an lmtrain run (its manifest, or a checkpoint of an earlier version). */
  public static boolean holdsRun(Path dir) throws IOException {
    Path manifest = dir.resolve(MANIFEST);
    if (Files.isRegularFile(manifest, LinkOption.NOFOLLOW_LINKS)) {
      JsonFields fields = JsonFields.of(manifest, StrictJson.readObject(manifest));
      if (!FORMAT.equals(fields.text("format"))) {
        throw new FileFormatException(manifest, "not an lmtrain run manifest (format is not \"" + FORMAT + "\")");
      }
      return true;
    }
    return Files.isDirectory(dir.resolve("checkpoint"), LinkOption.NOFOLLOW_LINKS)
        || (Files.isDirectory(dir.resolve("bert/checkpoint"), LinkOption.NOFOLLOW_LINKS)
            && Files.isDirectory(dir.resolve("gpt2/checkpoint"), LinkOption.NOFOLLOW_LINKS));
  }

  /** Refuses a run folder holding a symbolic link, which a write could follow out of the folder. */
  static void requireNoSymbolicLinks(Path dir) throws IOException {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path entry : entries) {
        if (Files.isSymbolicLink(entry)) {
          throw new FileSystemException(entry.toString(), null, "is a symbolic link inside the run folder; lmtrain"
              + " does not follow links out of its output folder (replace it with a plain file or folder)");
        }
      }
    }
  }

  private static boolean isEmpty(Path dir) throws IOException {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      return !entries.iterator().hasNext();
    }
  }
}
