package ai.lmtrain.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointWriterTest {
  @TempDir Path dir;

  @Test
  void writesANewCheckpointFolder() throws IOException {
    Path target = dir.resolve("checkpoint-100");
    CheckpointWriter.write(target, folder -> {
      Files.writeString(folder.resolve("config.json"), "{}");
      Files.createDirectory(folder.resolve("optimizer"));
      Files.writeString(folder.resolve("optimizer").resolve("state.bin"), "moments");
    });
    assertEquals("{}", Files.readString(target.resolve("config.json")));
    assertEquals("moments", Files.readString(target.resolve("optimizer").resolve("state.bin")));
    assertEquals(List.of(target), siblings());
  }

  @Test
  void replacesAnExistingCheckpointCompletely() throws IOException {
    Path target = dir.resolve("final");
    CheckpointWriter.write(target, folder -> {
      Files.writeString(folder.resolve("config.json"), "old");
      Files.writeString(folder.resolve("stale.txt"), "only in the old checkpoint");
    });
    CheckpointWriter.write(target, folder -> Files.writeString(folder.resolve("config.json"), "new"));
    assertEquals("new", Files.readString(target.resolve("config.json")));
    assertFalse(Files.exists(target.resolve("stale.txt")));
    assertEquals(List.of(target), siblings());
  }

  @Test
  void aCrashWhileWritingKeepsThePreviousCheckpointAndLeavesNoTemporaryFolder() throws IOException {
    Path target = dir.resolve("final");
    CheckpointWriter.write(target, folder -> Files.writeString(folder.resolve("config.json"), "good"));

    IOException crash = assertThrows(IOException.class, () -> CheckpointWriter.write(target, folder -> {
      Files.writeString(folder.resolve("config.json"), "half");
      throw new IOException("simulated crash: disk full while writing model.safetensors");
    }));
    assertTrue(crash.getMessage().contains("simulated crash"));
    assertThrows(IllegalStateException.class, () -> CheckpointWriter.write(target, folder -> {
      throw new IllegalStateException("simulated bug in the writer");
    }));

    assertEquals("good", Files.readString(target.resolve("config.json")));
    assertEquals(List.of(target), siblings());
  }

  @Test
  void recoverRestoresThePreviousCheckpointAfterACrashBetweenTheRenames() throws IOException {
    Path target = dir.resolve("final");
    CheckpointWriter.write(target, folder -> Files.writeString(folder.resolve("config.json"), "previous"));
    // State after a crash right after "rename target aside": no target, aside + staging present.
    Files.move(target, CheckpointWriter.asideFolder(target.toAbsolutePath()));
    Path staging = CheckpointWriter.stagingFolder(target.toAbsolutePath());
    Files.createDirectory(staging);
    Files.writeString(staging.resolve("config.json"), "unfinished");

    CheckpointWriter.recover(target);

    assertEquals("previous", Files.readString(target.resolve("config.json")));
    assertEquals(List.of(target), siblings());
  }

  @Test
  void aSaveCleansUpAStaleAsideCopyLeftAfterTheSwap() throws IOException {
    Path target = dir.resolve("final");
    CheckpointWriter.write(target, folder -> Files.writeString(folder.resolve("config.json"), "1"));
    Path aside = CheckpointWriter.asideFolder(target.toAbsolutePath());
    Files.createDirectory(aside);
    Files.writeString(aside.resolve("config.json"), "0");

    CheckpointWriter.write(target, folder -> Files.writeString(folder.resolve("config.json"), "2"));

    assertEquals("2", Files.readString(target.resolve("config.json")));
    assertEquals(List.of(target), siblings());
  }

  /** The files of a checkpoint folder but its manifest. */
  private static String content(Path folder) throws IOException {
    return Files.readString(folder.resolve("config.json")) + "|" + Files.readString(folder.resolve("weights.bin"));
  }

  private static void save(Path target, String version) throws IOException {
    CheckpointWriter.write(target, folder -> {
      Files.writeString(folder.resolve("config.json"), "config " + version);
      Files.writeString(folder.resolve("weights.bin"), "weights " + version);
    });
  }

  @Test
  void aKillAfterAnyStepOfASaveRecoversTheNewestCompleteCheckpoint() throws Exception {
    for (boolean replacing : new boolean[] {true, false}) {
      Path root = Files.createDirectories(dir.resolve(replacing ? "replacing" : "first"));
      Path target = root.resolve("checkpoint");
      if (replacing) {
        save(target, "1");
      }
      Path snapshots = dir.resolve("snapshots-" + replacing);
      List<String> seen = new java.util.ArrayList<>();
      try (AutoCloseable probe = SaveKillPoints.install((step, saved) -> {
        seen.add(step);
        SaveKillPoints.copyTree(root, snapshots.resolve(step));
      })) {
        save(target, "2");
      }
      List<String> expectedSteps = new java.util.ArrayList<>(SaveKillPoints.steps());
      if (!replacing) {
        expectedSteps.remove("MOVED_ASIDE");
      }
      assertEquals(expectedSteps, seen);
      for (String step : seen) {
        Path crashed = snapshots.resolve(step).resolve("checkpoint");
        CheckpointWriter.recover(crashed);
        String where = (replacing ? "replacing, " : "first save, ") + "killed after " + step;
        if (step.equals("STAGED")) {
          if (replacing) {
            assertEquals("config 1|weights 1", content(crashed), where);
          } else {
            assertFalse(Files.exists(crashed), where);
          }
        } else {
          assertEquals("config 2|weights 2", content(crashed), where + ": the sealed save is the newest complete one");
        }
        try (Stream<Path> left = Files.list(crashed.getParent())) {
          assertEquals(Files.exists(crashed) ? List.of(crashed) : List.of(), left.toList(), where + ": leftovers");
        }
        save(crashed, "3"); // and the run goes on saving there
        assertEquals("config 3|weights 3", content(crashed), where);
      }
    }
  }

  /** What a kill between the two renames of a save leaves: the old checkpoint aside, the new one sealed. */
  private Path killedBetweenTheRenames(Path target) throws IOException {
    save(target, "old");
    Path staging = CheckpointWriter.stagingFolder(target.toAbsolutePath());
    save(dir.resolve("elsewhere"), "new");
    Files.move(target, CheckpointWriter.asideFolder(target.toAbsolutePath()));
    Files.move(dir.resolve("elsewhere"), staging);
    return staging;
  }

  @Test
  void onlyTheAsideAndACompleteStagingFolderLeftRecoverTheNewOne() throws IOException {
    // The case: killed between the two renames; both folders complete.
    Path target = dir.resolve("checkpoint");
    killedBetweenTheRenames(target);

    CheckpointWriter.recover(target);

    assertEquals("config new|weights new", content(target));
    assertEquals(List.of(target), siblings());
  }

  @Test
  void aSealedStagingFolderWhoseFilesNoLongerMatchItsManifestIsDiscarded() throws IOException {
    Path target = dir.resolve("checkpoint");
    Path staging = killedBetweenTheRenames(target);
    Files.writeString(staging.resolve("weights.bin"), "weights ne"); // damaged after the seal

    CheckpointWriter.recover(target);

    assertEquals("config old|weights old", content(target), "the previous, intact checkpoint wins");
    assertEquals(List.of(target), siblings());
  }

  @Test
  void refusesATargetThatIsASymbolicLink() throws IOException {
    Path outside = Files.createDirectories(dir.resolve("outside"));
    Path link = Files.createSymbolicLink(dir.resolve("checkpoint"), outside);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> save(link, "1"));
    assertTrue(e.getMessage().contains("symbolic links are not followed"), e.getMessage());
    try (Stream<Path> inOutside = Files.list(outside)) {
      assertEquals(0, inOutside.count());
    }
  }

  @Test
  void aFailedWriteNamesTheFileAndNoLinkIsWrittenThroughOrReplaced() throws IOException {
    Path file = dir.resolve("model.safetensors");
    IOException full = assertThrows(IOException.class, () -> AtomicFiles.write(file, channel -> {
      throw new IOException("No space left on device");
    }));
    assertEquals(file + ": cannot write (No space left on device)", full.getMessage());
    assertEquals(List.of(), siblings(), "no temporary file is left");

    Path outside = Files.writeString(dir.resolve("precious.txt"), "user data");
    Path link = Files.createSymbolicLink(dir.resolve("config.json"), outside);
    java.nio.file.FileSystemException refused = assertThrows(java.nio.file.FileSystemException.class,
        () -> AtomicFiles.writeString(link, "x"));
    assertTrue(refused.getMessage().startsWith(link + ": is a symbolic link"), refused.getMessage());
    assertEquals("user data", Files.readString(outside));
    assertTrue(Files.isSymbolicLink(link));
  }

  @Test
  void refusesATargetThatIsAFile() throws IOException {
    Path file = Files.writeString(dir.resolve("final"), "not a folder");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CheckpointWriter.write(file, folder -> { }));
    assertTrue(e.getMessage().contains("exists and is not a folder"), e.getMessage());
  }

  @Test
  void atomicFileWriteKeepsThePreviousFileWhenTheWriterFails() throws IOException {
    Path file = dir.resolve("config.json");
    AtomicFiles.writeString(file, "previous");
    assertThrows(IOException.class, () -> AtomicFiles.write(file, channel -> {
      AtomicFiles.writeFully(channel, ByteBuffer.wrap(new byte[] {'x'}));
      throw new IOException("simulated crash");
    }));
    assertEquals("previous", Files.readString(file));
    assertEquals(List.of(file), siblings());
  }

  private List<Path> siblings() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.sorted().toList();
    }
  }
}
