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
