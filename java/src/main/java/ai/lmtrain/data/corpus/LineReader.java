package ai.lmtrain.data.corpus;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Pulls lines of strict UTF-8 from a stream in large reads: lines end at {@code \n}, a trailing
 * {@code \r} is dropped, and a byte sequence that is not UTF-8 is an error naming the file and line.
 * The raw bytes of the current line are also available (JSONL lines are parsed from them).
 */
final class LineReader {
  /** The longest line read (a longer one is an error, not an out-of-memory). */
  static final int MAX_LINE_BYTES = 1 << 28;

  private final InputStream in;
  private final String name;
  private final CharsetDecoder strict = StandardCharsets.UTF_8.newDecoder()
      .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
  private byte[] buf = new byte[1 << 16];
  private int start;
  private int limit;
  private boolean eof;
  private long lineNumber;
  private int lineStart;
  private int lineLength;
  private boolean endedWithNewline;

  LineReader(InputStream in, String name) {
    this.in = in;
    this.name = name;
  }

  /**
   * Advances to the next line; false at the end of the stream. The line's bytes are
   * {@link #bytes()}{@code [}{@link #offset()}, {@code +} {@link #length()}{@code )} until the
   * next call.
   */
  boolean next() throws IOException {
    while (true) {
      for (int i = start; i < limit; i++) {
        if (buf[i] == '\n') {
          setLine(start, i - start, true);
          start = i + 1;
          return true;
        }
      }
      if (eof) {
        if (start < limit) {
          setLine(start, limit - start, false);
          start = limit;
          return true;
        }
        return false;
      }
      fill();
    }
  }

  private void setLine(int from, int length, boolean newline) {
    lineNumber++;
    lineStart = from;
    lineLength = length > 0 && buf[from + length - 1] == '\r' ? length - 1 : length;
    endedWithNewline = newline;
  }

  /** Moves the unread bytes to the front (growing the buffer for a long line) and reads more. */
  private void fill() throws IOException {
    int pending = limit - start;
    if (start == 0 && limit == buf.length) {
      if (buf.length >= MAX_LINE_BYTES) {
        throw new CorpusException(name + ":" + (lineNumber + 1) + ": a line longer than " + (MAX_LINE_BYTES >> 20)
            + " MiB (expected text with line breaks, or one JSON object per line)");
      }
      buf = Arrays.copyOf(buf, buf.length * 2);
    } else if (start > 0) {
      System.arraycopy(buf, start, buf, 0, pending);
    }
    start = 0;
    limit = pending;
    int n = in.read(buf, limit, buf.length - limit);
    if (n < 0) {
      eof = true;
    } else {
      limit += n;
    }
  }

  byte[] bytes() {
    return buf;
  }

  int offset() {
    return lineStart;
  }

  int length() {
    return lineLength;
  }

  /** The 1-based number of the current line. */
  long lineNumber() {
    return lineNumber;
  }

  /** Whether the current line ended with {@code \n} (false only for a last line without one). */
  boolean endedWithNewline() {
    return endedWithNewline;
  }

  /** The current line as a string, strictly decoded. */
  String line() throws CorpusException {
    return decode(buf, lineStart, lineLength);
  }

  /**
   * Decodes strict UTF-8: through the JDK's decoder (whose ASCII check is vectorized), checked for
   * replacement characters (on a Latin-1 string, as ASCII text gives, that check takes one step).
   */
  String decode(byte[] b, int off, int len) throws CorpusException {
    String s = new String(b, off, len, StandardCharsets.UTF_8);
    if (s.indexOf('\uFFFD') < 0) {
      return s; // the lenient decoder replaced nothing, so the bytes were valid UTF-8
    }
    try {
      return strict.reset().decode(ByteBuffer.wrap(b, off, len)).toString();
    } catch (CharacterCodingException e) {
      throw new CorpusException(name + ":" + lineNumber + ": invalid UTF-8 (expected UTF-8 text)");
    }
  }
}
