package ai.lmtrain.data.shards;

import ai.lmtrain.io.AtomicFiles;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes one shard ({@link ShardFormat}) in a streaming way: a placeholder header, the tokens
 * through a 1 MiB buffer, then on {@link #close()} the real header, and the file is forced to disk.
 */
public final class ShardWriter implements Closeable {
  private final Path file;
  private final FileChannel channel;
  private final int tokenBytes;
  private final ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
  private long tokens;

  /**
   * Creates {@code file} (which must not exist).
   *
   * @param tokenBytes 2 (uint16, version 1) or 4 (uint32, version 2)
   */
  public ShardWriter(Path file, int tokenBytes) throws IOException {
    ShardFormat.versionFor(tokenBytes);
    this.file = file;
    this.tokenBytes = tokenBytes;
    this.channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    AtomicFiles.writeFully(channel, ShardFormat.header(0, tokenBytes));
  }

  /** Tokens written so far. */
  public long tokens() {
    return tokens;
  }

  /** The file. */
  public Path file() {
    return file;
  }

  /** Appends {@code ids[from, to)} (each must fit the token width; the caller checks). */
  public void write(int[] ids, int from, int to) throws IOException {
    if (tokens + (to - from) > ShardFormat.MAX_TOKENS) {
      throw new IllegalStateException(file + ": a shard holds at most " + ShardFormat.MAX_TOKENS + " tokens");
    }
    for (int i = from; i < to; ) {
      if (buffer.remaining() < tokenBytes) {
        flush();
      }
      int n = Math.min(to - i, buffer.remaining() / tokenBytes);
      if (tokenBytes == 2) {
        for (int end = i + n; i < end; i++) {
          buffer.putShort((short) ids[i]);
        }
      } else {
        buffer.asIntBuffer().put(ids, i, n);
        buffer.position(buffer.position() + 4 * n);
        i += n;
      }
    }
    tokens += to - from;
  }

  private void flush() throws IOException {
    buffer.flip();
    AtomicFiles.writeFully(channel, buffer);
    buffer.clear();
  }

  /** Writes the header with the token count, forces the file to disk and closes it. */
  @Override
  public void close() throws IOException {
    try (channel) {
      flush();
      ByteBuffer header = ShardFormat.header(tokens, tokenBytes);
      while (header.hasRemaining()) {
        channel.write(header, header.position());
      }
      channel.force(true);
    }
  }
}
