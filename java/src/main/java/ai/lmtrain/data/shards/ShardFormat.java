package ai.lmtrain.data.shards;

import ai.lmtrain.io.FileFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * llm.c's token shard format ({@code dev/data/data_common.py}, {@code llmc/dataloader.h}): a header
 * of 256 little-endian int32 — [0] magic 20240520, [1] version (1: uint16 tokens, 2: uint32
 * tokens), [2] the token count, the rest zero — then the tokens, little-endian. The file holds
 * exactly {@code 1024 + count * tokenBytes} bytes. llm.c's Llama 3 files (magic 20240801,
 * version 7, uint32 tokens) read too.
 */
public final class ShardFormat {
  /** Magic of GPT-2 style shards. */
  public static final int MAGIC = 20240520;
  /** Magic of llm.c's Llama 3 shards (version 7, uint32 tokens). */
  public static final int LLAMA3_MAGIC = 20240801;
  /** Header size: 256 int32. */
  public static final int HEADER_BYTES = 256 * 4;
  /** The largest token count a header holds (an int32). */
  public static final long MAX_TOKENS = Integer.MAX_VALUE;

  private ShardFormat() {}

  /**
   * A shard's header.
   *
   * @param magic the magic number
   * @param version the version
   * @param tokens the token count
   * @param tokenBytes 2 (uint16) or 4 (uint32)
   */
  public record Header(int magic, int version, long tokens, int tokenBytes) {}

  /** The version of our magic for a token width: 1 for 2 bytes, 2 for 4 bytes. */
  public static int versionFor(int tokenBytes) {
    return switch (tokenBytes) {
      case 2 -> 1;
      case 4 -> 2;
      default -> throw new IllegalArgumentException("tokens are 2 or 4 bytes, not " + tokenBytes);
    };
  }

  /** The header bytes for {@code tokens} tokens of {@code tokenBytes} bytes. */
  static ByteBuffer header(long tokens, int tokenBytes) {
    if (tokens < 0 || tokens > MAX_TOKENS) {
      throw new IllegalArgumentException("a shard holds at most " + MAX_TOKENS + " tokens, not " + tokens);
    }
    ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0, MAGIC).putInt(4, versionFor(tokenBytes)).putInt(8, (int) tokens);
    return b;
  }

  /**
   * Reads and checks the header of {@code file}.
   *
   * @throws FileFormatException for a wrong magic or version, a negative count, or a file size
   *     that does not match the count
   */
  public static Header read(Path file, FileChannel channel) throws IOException {
    long size = channel.size();
    if (size < HEADER_BYTES) {
      throw new FileFormatException(file, "not a token shard (" + size + " bytes, shorter than the 1024-byte header)");
    }
    ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    while (b.hasRemaining()) {
      if (channel.read(b, b.position()) < 0) {
        throw new FileFormatException(file, "ends inside its header");
      }
    }
    int magic = b.getInt(0);
    int version = b.getInt(4);
    int tokenBytes;
    if (magic == MAGIC && (version == 1 || version == 2)) {
      tokenBytes = version == 1 ? 2 : 4;
    } else if (magic == LLAMA3_MAGIC && version == 7) {
      tokenBytes = 4;
    } else if (magic == MAGIC || magic == LLAMA3_MAGIC) {
      throw new FileFormatException(file, "unknown token shard version " + version + " (expected 1 = uint16 or"
          + " 2 = uint32 tokens)");
    } else {
      throw new FileFormatException(file, "not a token shard (magic " + magic + ", expected " + MAGIC + ")");
    }
    long tokens = b.getInt(8);
    if (tokens < 0) {
      throw new FileFormatException(file, "negative token count " + tokens + " in the header");
    }
    long expected = HEADER_BYTES + tokens * tokenBytes;
    if (size != expected) {
      throw new FileFormatException(file, "the header says " + tokens + " tokens (" + expected + " bytes) but the"
          + " file has " + size + " bytes (truncated, or not written by the documented rules)");
    }
    return new Header(magic, version, tokens, tokenBytes);
  }
}
