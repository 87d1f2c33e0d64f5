package ai.lmtrain.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link FolderLock} within one JVM; OutputFolderSafetyTest covers a second process. */
class FolderLockTest {
  @TempDir Path tmp;

  private List<Path> listing() throws IOException {
    try (Stream<Path> files = Files.walk(tmp)) {
      return files.sorted().toList();
    }
  }

  @Test
  void aSecondHolderIsRefusedWithTheFirstOnesName() throws IOException {
    Path folder = tmp.resolve("a/b/run");
    long pid = ProcessHandle.current().pid();
    try (FolderLock first = FolderLock.acquire(folder, "lmtrain train")) {
      Path lockFile = tmp.resolve("a/b/.run.lock");
      assertTrue(Files.readString(lockFile).startsWith("{\"format\":\"lmtrain-lock\",\"pid\":" + pid + ","));
      FileSystemException second = assertThrows(FileSystemException.class,
          () -> FolderLock.acquire(tmp.resolve("a/./b/run"), "lmtrain lab"));
      assertTrue(second.getMessage().startsWith(folder + ": is in use by another lmtrain process (pid " + pid + " on "
          + FolderLock.hostName() + ", lmtrain train since "), second.getMessage());
      assertTrue(second.getMessage().endsWith("; lock file " + lockFile + "): wait until it has finished, or choose"
          + " another folder"), second.getMessage());
      assertTrue(Files.exists(lockFile), "the refused holder leaves the lock in place");
    }
    assertEquals(List.of(tmp), listing(), "the lock file and the parent folders it needed are gone");
    try (FolderLock again = FolderLock.acquire(folder, "lmtrain train")) {
      Files.createDirectories(folder.resolve("checkpoint"));
    }
    assertTrue(Files.isDirectory(folder.resolve("checkpoint")), "a folder with content is kept");
  }

  @Test
  void anEmptyFolderItFoundMissingIsRemovedOneThatExistedIsKept() throws IOException {
    Path created = tmp.resolve("created");
    try (FolderLock lock = FolderLock.acquire(created, "lmtrain train")) {
      Files.createDirectory(created);
    }
    assertFalse(Files.exists(created));
    Path existing = Files.createDirectory(tmp.resolve("existing"));
    try (FolderLock lock = FolderLock.acquire(existing, "lmtrain train")) {
      assertTrue(Files.isDirectory(existing));
    }
    assertEquals(List.of(tmp, existing), listing());
  }

  @Test
  void aStaleLockFileDoesNotBlockAndAForeignOneIsKept() throws IOException {
    Path folder = tmp.resolve("run");
    Path lockFile = tmp.resolve(".run.lock");
    // Left by a holder that was killed: nothing holds the lock any more.
    Files.writeString(lockFile, "{\"format\":\"lmtrain-lock\",\"pid\":1,\"host\":\"elsewhere\"");
    try (FolderLock lock = FolderLock.acquire(folder, "lmtrain train")) {
      assertTrue(Files.readString(lockFile).contains("\"pid\":" + ProcessHandle.current().pid()));
    }
    assertFalse(Files.exists(lockFile));

    Files.writeString(lockFile, "a file of the user's that happens to have this name");
    FileSystemException foreign = assertThrows(FileSystemException.class,
        () -> FolderLock.acquire(folder, "lmtrain train"));
    assertEquals(lockFile + ": exists and was not written by lmtrain, which keeps its lock file for the folder beside"
        + " it under this name (move the file away)", foreign.getMessage());
    assertEquals("a file of the user's that happens to have this name", Files.readString(lockFile));
    assertFalse(Files.exists(folder));
  }
}
