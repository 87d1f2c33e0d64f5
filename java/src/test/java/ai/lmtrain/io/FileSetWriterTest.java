package ai.lmtrain.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FileSetWriter}: a set of files in a folder of other files is replaced whole, also when the
 * process is killed after any step (each kill point photographed, then recovered), and the other
 * files are never touched.
 */
class FileSetWriterTest {
  private static final List<String> NAMES = List.of("a.json", "b.txt", "c.txt");

  @TempDir Path tmp;

  /** Every regular file under {@code dir} (relative path -> content). */
  private static Map<String, String> contents(Path dir) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        out.put(dir.relativize(f).toString(), Files.readString(f));
      }
    }
    return out;
  }

  private Path oldSet(String name) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve(name));
    Files.writeString(dir.resolve("a.json"), "old a");
    Files.writeString(dir.resolve("c.txt"), "old c");
    Files.writeString(dir.resolve("notes.txt"), "the user's own file");
    return dir;
  }

  private static void writeNewSet(Path dir) throws IOException {
    FileSetWriter.write(dir, "set", NAMES, staging -> {
      Files.writeString(staging.resolve("a.json"), "new a");
      Files.writeString(staging.resolve("b.txt"), "new b");
    });
  }

  private static final Map<String, String> OLD = Map.of("a.json", "old a", "c.txt", "old c", "notes.txt",
      "the user's own file");
  private static final Map<String, String> NEW = Map.of("a.json", "new a", "b.txt", "new b", "notes.txt",
      "the user's own file");

  @Test
  void replacesTheSetAndNothingElse() throws IOException {
    Path dir = oldSet("dir");
    writeNewSet(dir);
    assertEquals(new TreeMap<>(NEW), contents(dir));
    try (Stream<Path> entries = Files.list(dir)) {
      assertEquals(3, entries.count(), "no staging folder or temporary file left");
    }
    Path fresh = tmp.resolve("new/nested");
    writeNewSet(fresh);
    assertEquals(Map.of("a.json", "new a", "b.txt", "new b"), contents(fresh));
  }

  @Test
  void aKillAtAnyStepLeavesTheOldOrTheNewSetWhole() throws IOException {
    Path dir = oldSet("dir");
    List<Path> snapshots = new ArrayList<>();
    List<String> steps = new ArrayList<>();
    FileSetWriter.Probe previous = FileSetWriter.probe;
    FileSetWriter.probe = step -> {
      Path snapshot = tmp.resolve("kill-" + snapshots.size());
      SaveKillPoints.copyTree(dir, snapshot);
      snapshots.add(snapshot);
      steps.add(step);
    };
    try {
      writeNewSet(dir);
    } finally {
      FileSetWriter.probe = previous;
    }
    assertEquals(List.of("sealed", "a.json", "b.txt", "c.txt"), steps);
    for (int i = 0; i < snapshots.size(); i++) {
      Path snapshot = snapshots.get(i);
      assertTrue(Files.isDirectory(snapshot.resolve(".set.saving")), "the staging folder is there at " + steps.get(i));
      FileSetWriter.recover(snapshot, "set", NAMES);
      assertEquals(new TreeMap<>(NEW), contents(snapshot), "killed after " + steps.get(i) + ", then recovered");
    }

    // Killed while staging (before the seal): the old set stays, the staging folder goes.
    Path unsealed = oldSet("unsealed");
    Files.createDirectory(unsealed.resolve(".set.saving"));
    Files.writeString(unsealed.resolve(".set.saving/a.json"), "half-written new a");
    FileSetWriter.recover(unsealed, "set", NAMES);
    assertEquals(new TreeMap<>(OLD), contents(unsealed));
    assertFalse(Files.exists(unsealed.resolve(".set.saving")));
  }

  @Test
  void aFailingWriterOrALinkLeavesTheOldSet(@TempDir Path outside) throws IOException {
    Path dir = oldSet("dir");
    assertThrows(IOException.class, () -> FileSetWriter.write(dir, "set", NAMES, staging -> {
      Files.writeString(staging.resolve("a.json"), "new a");
      throw new IOException("disk full");
    }));
    assertThrows(IllegalStateException.class, () -> FileSetWriter.write(dir, "set", NAMES,
        staging -> Files.writeString(staging.resolve("notes.txt"), "not in the set")));
    assertEquals(new TreeMap<>(OLD), contents(dir));

    Path target = Files.writeString(outside.resolve("precious"), "precious");
    Files.createSymbolicLink(dir.resolve("b.txt"), target);
    FileSystemException link = assertThrows(FileSystemException.class, () -> writeNewSet(dir));
    assertEquals(dir.resolve("b.txt") + ": is a symbolic link; lmtrain does not write through or over links (remove it"
        + " or choose another folder)", link.getMessage());
    assertEquals("precious", Files.readString(target));
    assertEquals("old a", Files.readString(dir.resolve("a.json")));
  }
}
