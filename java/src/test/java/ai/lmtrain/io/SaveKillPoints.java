package ai.lmtrain.io;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;
import java.util.List;

/**
 * Test access to {@link CheckpointWriter}'s probe, for tests in other packages: a listener sees
 * every step of every save, and {@link #copyTree} photographs a folder as a crash at that moment
 * would leave it on disk (nothing of the save's own clean-up runs).
 */
public final class SaveKillPoints {
  private SaveKillPoints() {}

  /** Called after each step of a save. */
  @FunctionalInterface
  public interface Listener {
    /** {@code step} is a {@link CheckpointWriter.Step} name; {@code target} the saved folder. */
    void reached(String step, Path target) throws IOException;
  }

  /** The names of the protocol's steps, in order. */
  public static List<String> steps() {
    return Arrays.stream(CheckpointWriter.Step.values()).map(Enum::name).toList();
  }

  /** Installs {@code listener} until the returned handle is closed. */
  public static AutoCloseable install(Listener listener) {
    CheckpointWriter.Probe previous = CheckpointWriter.probe;
    CheckpointWriter.probe = (step, target) -> listener.reached(step.name(), target);
    return () -> CheckpointWriter.probe = previous;
  }

  /** Copies the folder tree {@code from} to the new path {@code to}. */
  public static void copyTree(Path from, Path to) throws IOException {
    Files.walkFileTree(from, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
        Files.createDirectories(to.resolve(from.relativize(dir).toString()));
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.copy(file, to.resolve(from.relativize(file).toString()));
        return FileVisitResult.CONTINUE;
      }
    });
  }
}
