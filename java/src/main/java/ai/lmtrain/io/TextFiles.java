package ai.lmtrain.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Whole-file reads with a size limit and strict UTF-8, whose errors name the file. */
public final class TextFiles {
  private TextFiles() {}

  /**
   * The bytes of {@code file}.
   *
   * @throws FileFormatException when the file is larger than {@code maxBytes}
   */
  public static byte[] readBytes(Path file, long maxBytes) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = channel.size();
      if (size > maxBytes) {
        throw new FileFormatException(file, size + " bytes is more than the " + maxBytes + " this file may have");
      }
    }
    return Files.readAllBytes(file);
  }

  /**
   * The text of {@code file}, decoded as strict UTF-8.
   *
   * @param what what the file should be, for the message ("a metrics.jsonl file ...")
   * @throws FileFormatException when the file is larger than {@code maxBytes} or not UTF-8 text
   */
  public static String readUtf8(Path file, long maxBytes, String what) throws IOException {
    byte[] bytes = readBytes(file, maxBytes);
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new FileFormatException(file, "is not UTF-8 text (expected " + what + ")", e);
    }
  }
}
