package ai.lmtrain.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An exclusive lock on a folder that a command writes (a run's output folder, a tokenizer folder),
 * held while the command runs, so that two processes, or two commands in one JVM, never write the
 * same folder at once. The second one fails at once, naming the folder and the holder.
 *
 * <p>The lock is the operating system's lock ({@link FileChannel#tryLock}) on the lock file {@code
 * .NAME.lock} beside the folder, in its parent. Beside rather than inside, because the lock must be
 * taken before the folder exists (two new runs racing to create it) and must also cover the hidden
 * siblings {@code .NAME.saving} and {@code .NAME.replaced} of {@link CheckpointWriter}, which an
 * {@code --overwrite} and the recovery of an interrupted one rename while NAME itself is renamed
 * away or missing. The file holds one JSON line naming the holder (process id, host, command, start
 * time). The operating system drops the lock when its process ends, however it ends, so a lock file
 * left by a killed process never blocks a later run.
 *
 * <p>{@link #close} removes the lock file, the folder when {@link #acquire} found it missing and it is
 * still empty (a command that failed early leaves nothing behind), and the parent folders {@link
 * #acquire} created, when empty.
 */
public final class FolderLock implements AutoCloseable {
  private static final String FORMAT = "lmtrain-lock";
  private static final int MAX_ATTEMPTS = 16;
  private static final int MAX_HOLDER_BYTES = 4096;
  /** How every holder line starts. */
  private static final String HEAD = "{\"format\":\"" + FORMAT + "\"";

  /**
   * Lock files held in this JVM (by real path), with their holder lines. A second channel must never
   * be opened on a file this JVM has locked: on Linux, closing any channel of a file releases every
   * lock the process holds on it, so a refused second writer would free the first one's lock.
   */
  private static final Map<Path, String> HELD = new HashMap<>();

  private final Path folder;
  private final Path lockFile;
  private final Path key;
  private final FileChannel channel;
  private final boolean folderExisted;
  private final List<Path> createdParents;
  private boolean closed;

  private FolderLock(Path folder, Path lockFile, Path key, FileChannel channel, boolean folderExisted,
      List<Path> createdParents) {
    this.folder = folder;
    this.lockFile = lockFile;
    this.key = key;
    this.channel = channel;
    this.folderExisted = folderExisted;
    this.createdParents = createdParents;
  }

  /**
   * Takes the lock of {@code folder} (which need not exist; its missing parent folders are
   * created) for {@code command}, e.g. "lmtrain train".
   *
   * @throws FileSystemException naming the folder, when another process or another command of this
   *     JVM holds its lock, with the holder as far as known; or naming the lock file when a file of
   *     that name exists that lmtrain did not write
   */
  public static FolderLock acquire(Path folder, String command) throws IOException {
    Path absolute = folder.toAbsolutePath().normalize();
    Path parent = AtomicFiles.parentOf(absolute);
    Path lockFile = parent.resolve("." + absolute.getFileName() + ".lock");
    List<Path> createdParents = new ArrayList<>();
    String holder = holderLine(command);
    Path key = null;
    try {
      for (int attempt = 1; ; attempt++) {
        createParents(parent, createdParents);
        Path attemptKey = parent.toRealPath().resolve(lockFile.getFileName());
        synchronized (HELD) {
          String other = HELD.get(attemptKey);
          if (other != null) {
            throw inUse(absolute, lockFile, other);
          }
          HELD.put(attemptKey, holder);
        }
        key = attemptKey;
        boolean folderExisted = Files.exists(absolute, LinkOption.NOFOLLOW_LINKS);
        FileChannel channel = lockIfSameFile(absolute, lockFile);
        if (channel != null) {
          try {
            requireLockFile(channel, lockFile);
            channel.truncate(0);
            AtomicFiles.writeFully(channel, ByteBuffer.wrap((holder + "\n").getBytes(StandardCharsets.UTF_8)));
            channel.force(true);
          } catch (IOException | RuntimeException e) {
            closeQuietly(channel, e);
            throw e;
          }
          return new FolderLock(absolute, lockFile, key, channel, folderExisted, createdParents);
        }
        release(key);
        key = null;
        if (attempt == MAX_ATTEMPTS) {
          throw new FileSystemException(lockFile.toString(), null, "cannot be locked: other processes keep"
              + " replacing it");
        }
      }
    } catch (IOException | RuntimeException | Error e) {
      if (key != null) {
        release(key);
      }
      removeEmptyFolders(createdParents);
      throw e;
    }
  }

  /**
   * Opens and locks {@code lockFile}, or returns null when the file it locked is no longer the one
   * at {@code lockFile} (it was created by this call, or removed and replaced meanwhile by a holder's
   * {@link #close}): the caller looks again.
   */
  private static FileChannel lockIfSameFile(Path folder, Path lockFile) throws IOException {
    Object before = fileKey(lockFile);
    FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
    try {
      FileLock lock = channel.tryLock();
      if (lock == null) {
        throw inUse(folder, lockFile, readHolder(channel));
      }
      if (before != null && before.equals(fileKey(lockFile))) {
        return channel;
      }
    } catch (OverlappingFileLockException e) {
      // Locked in this JVM under another path to the same file (a link in the path).
      IOException busy = inUse(folder, lockFile, null);
      closeQuietly(channel, busy);
      throw busy;
    } catch (IOException | RuntimeException e) {
      closeQuietly(channel, e);
      throw e;
    }
    channel.close();
    return null;
  }

  /**
   * Refuses a lock file that lmtrain did not write: ours are empty or start with {@link #HEAD} (a
   * holder killed while writing its line may have left a part of it).
   */
  private static void requireLockFile(FileChannel channel, Path lockFile) throws IOException {
    String content = readHolder(channel);
    if (!content.startsWith(HEAD) && !HEAD.startsWith(content)) {
      throw new FileSystemException(lockFile.toString(), null, "exists and was not written by lmtrain, which keeps"
          + " its lock file for the folder beside it under this name (move the file away)");
    }
  }

  /** Releases the lock; see the class comment for what is removed. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    IOException failure = null;
    try {
      if (!folderExisted && Files.isDirectory(folder, LinkOption.NOFOLLOW_LINKS)) {
        removeIfEmpty(folder);
      }
      // Removed while still held: a process that opened it meanwhile sees another file there once it
      // gets the lock, and looks again.
      Files.deleteIfExists(lockFile);
    } catch (IOException e) {
      failure = e;
    } finally {
      try {
        channel.close();
      } catch (IOException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
      release(key);
    }
    removeEmptyFolders(createdParents);
    if (failure != null) {
      throw failure;
    }
  }

  /** The folder this lock guards (absolute). */
  public Path folder() {
    return folder;
  }

  private static void release(Path key) {
    synchronized (HELD) {
      HELD.remove(key);
    }
  }

  /** The holder line: {"format": "lmtrain-lock", "pid": ..., "host": ..., "command": ..., "since": ...}. */
  private static String holderLine(String command) {
    ObjectNode line = StrictJson.MAPPER.createObjectNode().put("format", FORMAT)
        .put("pid", ProcessHandle.current().pid()).put("host", hostName()).put("command", command)
        .put("since", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
    return line.toString();
  }

  /** "pid 123 on host, lmtrain train since 2026-01-01T00:00:00Z", or null for a line that is not a holder line. */
  private static String describe(String line) {
    if (line == null) {
      return null;
    }
    try {
      JsonNode node = StrictJson.parse(line.strip().getBytes(StandardCharsets.UTF_8), Path.of("lock"));
      if (!FORMAT.equals(node.path("format").asText())) {
        return null;
      }
      return "pid " + node.path("pid").asLong() + " on " + node.path("host").asText("?") + ", "
          + node.path("command").asText("?") + " since " + node.path("since").asText("?");
    } catch (FileFormatException e) {
      return null;
    }
  }

  private static FileSystemException inUse(Path folder, Path lockFile, String holderLine) {
    String holder = describe(holderLine);
    return new FileSystemException(folder.toString(), null, "is in use by another lmtrain process ("
        + (holder != null ? holder : "holder unknown") + "; lock file " + lockFile + "): wait until it has finished,"
        + " or choose another folder");
  }

  /** The first bytes of the lock file, read through {@code channel} (never through a second channel). */
  private static String readHolder(FileChannel channel) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(MAX_HOLDER_BYTES);
    long position = 0;
    while (buffer.hasRemaining() && channel.read(buffer, position) > 0) {
      position = buffer.position();
    }
    return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
  }

  private static Object fileKey(Path file) throws IOException {
    try {
      return Objects.requireNonNull(Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
          .fileKey(), "this file system has no file keys");
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  /** Creates the missing folders up to {@code dir}, adding each created one to {@code created}. */
  private static void createParents(Path dir, List<Path> created) throws IOException {
    List<Path> missing = new ArrayList<>();
    for (Path p = dir; p != null && !Files.exists(p); p = p.getParent()) {
      missing.add(0, p);
    }
    for (Path p : missing) {
      try {
        Files.createDirectory(p);
        created.add(p);
      } catch (java.nio.file.FileAlreadyExistsException e) {
        // created meanwhile by another process: not ours to remove
      }
    }
  }

  /** Removes the folders of {@code created} that are empty, deepest first. */
  private static void removeEmptyFolders(List<Path> created) {
    for (int i = created.size() - 1; i >= 0; i--) {
      try {
        if (!removeIfEmpty(created.get(i))) {
          return;
        }
      } catch (IOException e) {
        return; // best effort: an empty folder left behind is harmless
      }
    }
    created.clear();
  }

  /** Deletes {@code dir} if it is an empty folder; returns whether it is gone. */
  private static boolean removeIfEmpty(Path dir) throws IOException {
    try {
      Files.delete(dir);
      return true;
    } catch (DirectoryNotEmptyException e) {
      return false;
    } catch (NoSuchFileException e) {
      return true;
    }
  }

  private static void closeQuietly(FileChannel channel, Throwable primary) {
    try {
      channel.close();
    } catch (IOException e) {
      primary.addSuppressed(e);
    }
  }

  /** This machine's host name (for lock holders and TensorBoard file names). */
  public static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      String env = System.getenv("HOSTNAME");
      return env != null && !env.isBlank() ? env : "localhost";
    }
  }
}
