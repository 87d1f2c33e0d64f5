package ai.lmtrain.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.io.FileFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsLogTest {
  @TempDir Path dir;

  private static final MetricsEvent TRAIN = MetricsEvent.train("gpt2", 10).epoch(0.5).loss(2.0)
      .lr(1e-4).gradNorm(0.75).tokensSeen(20480).tokensPerS(1234.5).build();
  private static final MetricsEvent EVAL = MetricsEvent.eval("bert", 20).loss(3.5).mlmAccuracy(0.25).build();

  @Test
  void writesOneJsonObjectPerLineWithOnlyTheKeysThatApply() throws IOException {
    Path file = dir.resolve("out").resolve(MetricsLog.FILE_NAME);
    try (MetricsLog log = MetricsLog.open(file)) {
      log.append(TRAIN);
      log.append(EVAL);
      // Flushed per line: visible before close.
      assertEquals(List.of(
          "{\"run\":\"gpt2\",\"step\":10,\"epoch\":0.5,\"split\":\"train\",\"loss\":2.0,"
              + "\"perplexity\":" + Math.exp(2.0) + ",\"lr\":1.0E-4,\"grad_norm\":0.75,"
              + "\"tokens_seen\":20480,\"tokens_per_s\":1234.5}",
          "{\"run\":\"bert\",\"step\":20,\"split\":\"eval\",\"loss\":3.5,\"perplexity\":"
              + Math.exp(3.5) + ",\"mlm_accuracy\":0.25}"),
          Files.readAllLines(file));
    }
    assertEquals(List.of(TRAIN, EVAL), MetricsLog.read(file));
  }

  @Test
  void reopeningAppends() throws IOException {
    Path file = dir.resolve(MetricsLog.FILE_NAME);
    try (MetricsLog log = MetricsLog.open(file)) {
      log.append(TRAIN);
    }
    try (MetricsLog log = MetricsLog.open(file)) {
      log.append(EVAL);
    }
    assertEquals(List.of(TRAIN, EVAL), MetricsLog.read(file));
  }

  @Test
  void nonFiniteValuesRoundTrip() throws IOException {
    Path file = dir.resolve(MetricsLog.FILE_NAME);
    MetricsEvent diverged = MetricsEvent.train("gpt2", 3).loss(Double.NaN).gradNorm(Double.POSITIVE_INFINITY).build();
    try (MetricsLog log = MetricsLog.open(file)) {
      log.append(diverged);
    }
    MetricsEvent read = MetricsLog.read(file).get(0);
    assertTrue(Double.isNaN(read.loss()) && Double.isNaN(read.perplexity()));
    assertEquals(Double.POSITIVE_INFINITY, read.gradNorm());
    assertNull(read.lr());
  }

  @Test
  void aPartialLastLineFromACrashIsIgnoredByReadAndCutOffByOpen() throws IOException {
    Path file = dir.resolve(MetricsLog.FILE_NAME);
    try (MetricsLog log = MetricsLog.open(file)) {
      log.append(TRAIN);
    }
    Files.writeString(file, "{\"run\":\"gpt2\",\"st", StandardOpenOption.APPEND);
    assertEquals(List.of(TRAIN), MetricsLog.read(file));
    try (MetricsLog log = MetricsLog.open(file)) {
      log.append(EVAL);
    }
    assertEquals(List.of(TRAIN, EVAL), MetricsLog.read(file));
  }

  @Test
  void malformedLinesAreReportedWithFileAndLineNumber() throws IOException {
    Path file = Files.writeString(dir.resolve(MetricsLog.FILE_NAME),
        "{\"run\":\"a\",\"step\":1,\"split\":\"train\"}\n\nnot json\n{\"run\":\"a\",\"step\":2,\"split\":\"train\"}\n");
    FileFormatException e = assertThrows(FileFormatException.class, () -> MetricsLog.read(file));
    assertTrue(e.getMessage().startsWith(file + ": line 3 is not a metrics event"), e.getMessage());

    Path badSplit = Files.writeString(dir.resolve("split.jsonl"), "{\"run\":\"a\",\"step\":1,\"split\":\"test\"}\n");
    FileFormatException split = assertThrows(FileFormatException.class, () -> MetricsLog.read(badSplit));
    assertTrue(split.getMessage().contains("line 1"), split.getMessage());
    Path noRun = Files.writeString(dir.resolve("run.jsonl"), "{\"step\":1,\"split\":\"eval\"}\n");
    FileFormatException run = assertThrows(FileFormatException.class, () -> MetricsLog.read(noRun));
    assertTrue(run.getMessage().contains("needs a non-blank 'run'"), run.getMessage());
  }

  @Test
  void refusesToAppendToAFileWithoutAnyCompleteLine() throws IOException {
    Path file = Files.writeString(dir.resolve("notes.txt"), "my notes, no newline");
    FileFormatException e = assertThrows(FileFormatException.class, () -> MetricsLog.open(file));
    assertTrue(e.getMessage().contains("not a metrics log"), e.getMessage());
    assertEquals("my notes, no newline", Files.readString(file));
  }

  @Test
  void eventsValidateTheirIdentity() {
    assertThrows(IllegalArgumentException.class, () -> MetricsEvent.train(" ", 1).build());
    assertThrows(IllegalArgumentException.class, () -> MetricsEvent.eval("bert", -1).build());
  }
}
