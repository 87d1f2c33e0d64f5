package ai.lmtrain.data.corpus;

import ai.lmtrain.data.parquet.ParquetStringReader;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Streams the documents of corpus files in order: text (lines, blank-line blocks or whole files),
 * JSONL (one string field per line) and Parquet (one string column), each text or JSONL file
 * optionally gzip or zstd compressed. Memory is bounded: one read buffer, one line, one Parquet
 * page, and documents longer than {@link #MAX_PIECE_CHARS} arrive in pieces. Empty and null texts
 * are skipped (and counted). Not thread-safe.
 */
public final class CorpusReader implements Closeable {
  /** Whole-file and blank-line documents are handed out in pieces of about this many characters. */
  public static final int MAX_PIECE_CHARS = 1 << 22;

  private static final JsonFactory JSON = new JsonFactory();

  private final List<Path> files;
  private final long[] sizes;
  private final long totalBytes;
  private final CorpusOptions options;
  private int fileIndex = -1;
  private Source current;
  private long finishedBytes;
  private long skipped;

  /** One open file. */
  private interface Source extends Closeable {
    Document next() throws IOException;

    long bytesRead();
  }

  /**
   * @param files the corpus files (see {@link CorpusFiles#expand})
   * @param options formats, text field and document split
   * @throws CorpusException if a file is missing
   */
  public CorpusReader(List<Path> files, CorpusOptions options) throws CorpusException {
    this.files = List.copyOf(files);
    this.options = options;
    this.sizes = new long[files.size()];
    long total = 0;
    for (int i = 0; i < sizes.length; i++) {
      try {
        sizes[i] = Files.size(files.get(i));
      } catch (IOException e) {
        throw new CorpusException(files.get(i) + ": no such file");
      }
      total += sizes[i];
    }
    this.totalBytes = total;
  }

  /** The files, in reading order. */
  public List<Path> files() {
    return files;
  }

  /** The size of each file in bytes. */
  public long[] sizes() {
    return sizes.clone();
  }

  /** Bytes of all files. */
  public long totalBytes() {
    return totalBytes;
  }

  /** File bytes consumed so far (compressed bytes for compressed files). */
  public long bytesRead() {
    return finishedBytes + (current == null ? 0 : Math.min(current.bytesRead(), sizes[fileIndex]));
  }

  /** Empty or null texts skipped so far. */
  public long skipped() {
    return skipped;
  }

  /** "file:line" (or "file row N" for Parquet) of a document, for messages. */
  public String where(Document d) {
    Path f = files.get(d.file());
    return format(f) == CorpusFormat.PARQUET ? f + " row " + d.location() : f + ":" + d.location();
  }

  /**
   * The next document (or piece), or null after the last file.
   *
   * @throws CorpusException naming the file and line or row for unreadable input
   */
  public Document next() throws IOException {
    while (true) {
      if (current != null) {
        Document d = current.next();
        if (d != null) {
          return d;
        }
        current.close();
        current = null;
        finishedBytes += sizes[fileIndex];
      }
      if (fileIndex + 1 >= files.size()) {
        return null;
      }
      fileIndex++;
      current = open(fileIndex);
    }
  }

  @Override
  public void close() throws IOException {
    if (current != null) {
      current.close();
      current = null;
    }
  }

  private CorpusFormat format(Path file) {
    return options.format() != null ? options.format() : CorpusFormat.ofFile(file);
  }

  private Source open(int index) throws IOException {
    Path file = files.get(index);
    CorpusFormat format = format(file);
    if (format == CorpusFormat.PARQUET) {
      if (Compression.isCompressed(file)) {
        throw new CorpusException(file + ": a compressed Parquet file; Parquet compresses its pages itself, so give"
            + " the .parquet file");
      }
      return new ParquetSource(index, new ParquetStringReader(file, options.textField()));
    }
    Compression.Opened opened = Compression.open(file);
    LineReader lines = new LineReader(opened.stream(), file.toString());
    return switch (format) {
      case JSONL -> new JsonlSource(index, opened, lines);
      default -> options.split() == DocumentSplit.LINES ? new LineSource(index, opened, lines)
          : new BlockSource(index, opened, lines, options.split() == DocumentSplit.FILES);
    };
  }

  /** Shared by the line-based sources: reading, byte counting, and decompression errors named with the file. */
  private abstract class LinesBase implements Source {
    final int index;
    final Compression.Opened opened;
    final LineReader lines;

    LinesBase(int index, Compression.Opened opened, LineReader lines) {
      this.index = index;
      this.opened = opened;
      this.lines = lines;
    }

    /** Advances the line reader; a decompression failure becomes one error naming the file and line. */
    boolean advance() throws IOException {
      try {
        return lines.next();
      } catch (CorpusException e) {
        throw e;
      } catch (IOException e) {
        throw new CorpusException(files.get(index) + ": corrupt or truncated compressed data after line "
            + lines.lineNumber() + " (" + e.getMessage() + ")", e);
      }
    }

    @Override
    public long bytesRead() {
      return opened.raw().count();
    }

    @Override
    public void close() throws IOException {
      opened.stream().close();
    }
  }

  private final class LineSource extends LinesBase {
    LineSource(int index, Compression.Opened opened, LineReader lines) {
      super(index, opened, lines);
    }

    @Override
    public Document next() throws IOException {
      while (advance()) {
        String line = lines.line();
        if (!line.isBlank()) {
          return new Document(line, true, true, index, lines.lineNumber());
        }
      }
      return null;
    }
  }

  /** Blank-line separated blocks, or the whole file, cut into pieces past {@link #MAX_PIECE_CHARS}. */
  private final class BlockSource extends LinesBase {
    private final boolean wholeFile;
    private final StringBuilder text = new StringBuilder();
    private boolean started;
    private boolean separatorPending;
    private long startLine;
    private boolean continued;
    private boolean done;

    BlockSource(int index, Compression.Opened opened, LineReader lines, boolean wholeFile) {
      super(index, opened, lines);
      this.wholeFile = wholeFile;
    }

    @Override
    public Document next() throws IOException {
      while (!done) {
        if (!advance()) {
          done = true;
          if (wholeFile && lines.lineNumber() > 0 && lines.endedWithNewline() && started) {
            text.append('\n');
          }
          return flush();
        }
        String line = lines.line();
        if (!wholeFile && line.isBlank()) {
          Document d = flush();
          if (d != null) {
            return d;
          }
          continue;
        }
        Document piece = null;
        if (text.length() >= MAX_PIECE_CHARS) {
          text.append('\n');
          separatorPending = false;
          piece = piece();
        }
        if (!started) {
          started = true;
          startLine = lines.lineNumber();
        }
        if (separatorPending) {
          text.append('\n');
        }
        text.append(line);
        separatorPending = true;
        if (piece != null) {
          return piece;
        }
      }
      return null;
    }

    /** A piece that does not end the document; the next one continues it. */
    private Document piece() {
      Document d = new Document(text.toString(), !continued, false, index, startLine);
      continued = true;
      text.setLength(0);
      return d;
    }


    /** Ends the current document (null if it is empty). */
    private Document flush() {
      if (!started) {
        return null;
      }
      Document d = null;
      if (text.length() > 0 || continued) {
        d = new Document(text.toString(), !continued, true, index, startLine);
      } else {
        skipped++;
      }
      text.setLength(0);
      started = false;
      continued = false;
      separatorPending = false;
      return d;
    }
  }

  private final class JsonlSource extends LinesBase {
    JsonlSource(int index, Compression.Opened opened, LineReader lines) {
      super(index, opened, lines);
    }

    @Override
    public Document next() throws IOException {
      while (advance()) {
        if (isBlank(lines.bytes(), lines.offset(), lines.length())) {
          continue;
        }
        String text = field();
        if (text == null || text.isEmpty()) {
          skipped++;
          continue;
        }
        return new Document(text, true, true, index, lines.lineNumber());
      }
      return null;
    }

    /** The text field of the current line: null when its value is null. */
    private String field() throws IOException {
      String where = files.get(index) + ":" + lines.lineNumber();
      String name = options.textField();
      List<String> seen = new ArrayList<>();
      try (JsonParser p = JSON.createParser(lines.bytes(), lines.offset(), lines.length())) {
        if (p.nextToken() != JsonToken.START_OBJECT) {
          throw new CorpusException(where + ": expected a JSON object per line");
        }
        String value = null;
        boolean found = false;
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
          String key = p.currentName();
          JsonToken v = p.nextToken();
          if (key.equals(name)) {
            found = true;
            if (v == JsonToken.VALUE_STRING) {
              value = p.getText();
            } else if (v != JsonToken.VALUE_NULL) {
              throw new CorpusException(where + ": field \"" + name + "\" is " + describe(v) + ", expected a string");
            }
          } else {
            if (seen.size() < 12) {
              seen.add(key);
            }
            p.skipChildren();
          }
        }
        if (t != JsonToken.END_OBJECT || p.nextToken() != null) {
          throw new CorpusException(where + ": expected one JSON object per line");
        }
        if (!found) {
          throw new CorpusException(where + ": no \"" + name + "\" field (fields: " + String.join(", ", seen)
              + "); choose one with --text-field");
        }
        return value;
      } catch (JsonParseException e) {
        throw new CorpusException(where + ": not valid JSON (" + e.getOriginalMessage() + ")", e);
      }
    }
  }

  private static String describe(JsonToken t) {
    return switch (t) {
      case START_OBJECT -> "an object";
      case START_ARRAY -> "an array";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
      case VALUE_TRUE, VALUE_FALSE -> "a boolean";
      default -> t.toString();
    };
  }

  private static boolean isBlank(byte[] b, int off, int len) {
    for (int i = off; i < off + len; i++) {
      if (b[i] != ' ' && b[i] != '\t' && b[i] != '\r') {
        return false;
      }
    }
    return true;
  }

  private final class ParquetSource implements Source {
    private final int index;
    private final ParquetStringReader reader;

    ParquetSource(int index, ParquetStringReader reader) {
      this.index = index;
      this.reader = reader;
    }

    @Override
    public Document next() throws IOException {
      String s;
      while ((s = reader.next()) != null) {
        if (!s.isEmpty()) {
          return new Document(s, true, true, index, reader.row());
        }
        skipped++;
      }
      return null;
    }

    @Override
    public long bytesRead() {
      return reader.bytesRead();
    }

    @Override
    public void close() throws IOException {
      reader.close();
    }
  }
}
