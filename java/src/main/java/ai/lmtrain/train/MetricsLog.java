package ai.lmtrain.train;

import ai.lmtrain.io.AtomicFiles;
import ai.lmtrain.io.FileFormatException;
import ai.lmtrain.io.TextFiles;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Appends {@link MetricsEvent}s to a JSON-lines file (conventionally {@value #FILE_NAME}), one
 * object per line, flushed after every line so a crash loses at most the line being written.
 * Non-finite numbers are written as the strings "NaN", "Infinity", "-Infinity" (JSON has no such
 * numbers) and read back as doubles. Thread-safe.
 */
public final class MetricsLog implements AutoCloseable {
  /** The conventional file name inside an output folder. */
  public static final String FILE_NAME = "metrics.jsonl";

  /** The largest metrics file read (a line is ~250 bytes: a million logged steps). */
  public static final long MAX_FILE_BYTES = 1L << 30;

  private static final ObjectMapper MAPPER = new ObjectMapper()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private final Path file;
  private final Writer out;

  private MetricsLog(Path file, Writer out) {
    this.file = file;
    this.out = out;
  }

  /**
   * Opens {@code file} for appending, creating it and its folder if needed. A partial last line
   * left by an interrupted write (no final newline) is cut off first, so the file stays valid.
   *
   * @throws FileFormatException when {@code file} is non-empty but holds no complete line
   * @throws java.nio.file.FileSystemException when {@code file} is a symbolic link (never followed)
   */
  public static MetricsLog open(Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    AtomicFiles.requireNotSymbolicLink(file);
    if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      dropPartialLastLine(file);
    }
    Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
        StandardOpenOption.WRITE, StandardOpenOption.APPEND, LinkOption.NOFOLLOW_LINKS);
    return new MetricsLog(file, out);
  }

  /** The file being written. */
  public Path file() {
    return file;
  }

  /** Writes {@code event} as one JSON line and flushes it to the operating system. */
  public synchronized void append(MetricsEvent event) throws IOException {
    out.write(MAPPER.writeValueAsString(event));
    out.write('\n');
    out.flush();
  }

  @Override
  public synchronized void close() throws IOException {
    out.close();
  }

  /**
   * Reads every event of a metrics file. Blank lines are skipped; an unparseable final line
   * without a newline (an interrupted write) is ignored.
   *
   * @throws FileFormatException naming the file (and line number) of a file that is not UTF-8 text
   *     or has a malformed line
   */
  public static List<MetricsEvent> read(Path file) throws IOException {
    return lines(file).stream().map(Line::event).toList();
  }

  /**
   * Drops the events after optimizer step {@code step} from {@code file}, atomically: a run resumed
   * from the checkpoint of that step logs them again, so the file ends up as an uninterrupted run's.
   * A missing file is left alone.
   */
  public static void truncateAfterStep(Path file, long step) throws IOException {
    if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    StringBuilder kept = new StringBuilder();
    for (Line line : lines(file)) {
      if (line.event().step() <= step) {
        kept.append(line.text()).append('\n');
      }
    }
    AtomicFiles.writeString(file, kept.toString());
  }

  /** One parsed line: its text and its event. */
  private record Line(String text, MetricsEvent event) {}

  private static List<Line> lines(Path file) throws IOException {
    AtomicFiles.requireNotSymbolicLink(file);
    String text = TextFiles.readUtf8(file, MAX_FILE_BYTES, "a metrics.jsonl file: one JSON object per line");
    String[] lines = text.split("\n", -1);
    List<Line> events = new ArrayList<>();
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty()) {
        continue;
      }
      boolean unterminated = i == lines.length - 1;
      try {
        events.add(new Line(line, MAPPER.readValue(line, MetricsEvent.class)));
      } catch (JsonProcessingException e) {
        if (unterminated) {
          break;
        }
        throw new FileFormatException(file, "line " + (i + 1) + " is not a metrics event: "
            + rootMessage(e), e);
      }
    }
    return events;
  }

  private static String rootMessage(JsonProcessingException e) {
    Throwable cause = e;
    while (cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause instanceof JsonProcessingException json ? json.getOriginalMessage() : cause.getMessage();
  }

  /**
   * Truncates {@code file} after its last newline when it does not end with one. Reads backwards
   * one byte at a time: a partial line is at most one event long. A non-empty file without any
   * complete line is not a metrics log and is left alone.
   */
  private static void dropPartialLastLine(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE,
        LinkOption.NOFOLLOW_LINKS)) {
      ByteBuffer oneByte = ByteBuffer.allocate(1);
      long size = channel.size();
      long keep = size;
      while (keep > 0) {
        oneByte.clear();
        channel.read(oneByte, keep - 1);
        if (oneByte.get(0) == '\n') {
          break;
        }
        keep--;
      }
      if (keep == 0 && size > 0) {
        throw new FileFormatException(file, "has no complete line; not a metrics log, refusing to append");
      }
      if (keep < size) {
        channel.truncate(keep);
      }
    }
  }
}
