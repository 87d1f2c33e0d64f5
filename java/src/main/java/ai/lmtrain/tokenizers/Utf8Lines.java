package ai.lmtrain.tokenizers;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Strict UTF-8 line reading: invalid UTF-8 is an error naming the file and line, never silently
 * replaced. Lines end at {@code \n}; a trailing {@code \r} is dropped.
 */
public final class Utf8Lines {

  /** Receives one line and its 1-based number. */
  @FunctionalInterface
  public interface LineConsumer {
    /** Called for each line, in order. */
    void line(String line, int lineNumber);
  }

  private Utf8Lines() {}

  /**
   * Streams the lines of a file.
   *
   * @throws TokenizerException if the file is missing or unreadable, or a line is not valid UTF-8
   */
  public static void forEach(Path file, LineConsumer consumer) {
    try (InputStream in = Files.newInputStream(file)) {
      forEach(in, file.toString(), consumer);
    } catch (NoSuchFileException e) {
      throw new TokenizerException(file + ": no such file");
    } catch (IOException e) {
      throw new TokenizerException(file + ": cannot read (" + e.getMessage() + ")", e);
    }
  }

  /**
   * Streams the lines of a stream; {@code name} is used in error messages.
   *
   * @throws TokenizerException on invalid UTF-8 or a read error
   */
  public static void forEach(InputStream stream, String name, LineConsumer consumer) {
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    byte[] buf = new byte[256];
    int len = 0;
    int lineNumber = 0;
    try (InputStream in = new BufferedInputStream(stream, 1 << 16)) {
      int b;
      boolean pending = false;
      while ((b = in.read()) >= 0) {
        pending = true;
        if (b == '\n') {
          consumer.line(decode(decoder, buf, len, name, ++lineNumber), lineNumber);
          len = 0;
          pending = false;
          continue;
        }
        if (len == buf.length) {
          buf = Arrays.copyOf(buf, len * 2);
        }
        buf[len++] = (byte) b;
      }
      if (pending) {
        consumer.line(decode(decoder, buf, len, name, ++lineNumber), lineNumber);
      }
    } catch (IOException e) {
      throw new TokenizerException(name + ": cannot read (" + e.getMessage() + ")", e);
    }
  }

  /** All lines of a file. */
  public static List<String> read(Path file) {
    List<String> lines = new ArrayList<>();
    forEach(file, (line, n) -> lines.add(line));
    return lines;
  }

  /**
   * The whole file as a string, strictly decoded.
   *
   * @throws TokenizerException if missing, unreadable or not valid UTF-8 (naming the line)
   */
  public static String readString(Path file) {
    StringBuilder sb = new StringBuilder();
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new TokenizerException(file + ": no such file");
    } catch (IOException e) {
      throw new TokenizerException(file + ": cannot read (" + e.getMessage() + ")", e);
    }
    forEach(new java.io.ByteArrayInputStream(bytes), file.toString(), (line, n) -> {
      if (n > 1) {
        sb.append('\n');
      }
      sb.append(line);
    });
    if (bytes.length > 0 && bytes[bytes.length - 1] == '\n') {
      sb.append('\n');
    }
    return sb.toString();
  }

  private static String decode(CharsetDecoder decoder, byte[] buf, int len, String name, int lineNumber) {
    if (len > 0 && buf[len - 1] == '\r') {
      len--;
    }
    boolean ascii = true;
    for (int i = 0; i < len && ascii; i++) {
      ascii = buf[i] >= 0;
    }
    if (ascii) {
      return new String(buf, 0, len, StandardCharsets.ISO_8859_1);
    }
    try {
      return decoder.reset().decode(ByteBuffer.wrap(buf, 0, len)).toString();
    } catch (CharacterCodingException e) {
      throw new TokenizerException(name + ":" + lineNumber + ": invalid UTF-8 (expected a UTF-8 text file)");
    }
  }
}
