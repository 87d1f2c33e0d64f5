package ai.lmtrain.data.shards;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;

/**
 * A token shard ({@link ShardFormat}) mapped into memory read-only: nothing is read until a token
 * is asked for, and the pages the kernel caches belong to the page cache, not the Java heap. A
 * mapping covers at most 1 GiB, so a shard of more than 2 GB takes several; mappings are released
 * when the shard is garbage collected (Java has no safe explicit unmap). Thread-safe for reads.
 */
public final class TokenShard {
  /** Bytes per mapping (a multiple of 4, so no token straddles two mappings). */
  static final long MAPPING_BYTES = 1L << 30;

  private final Path file;
  private final ShardFormat.Header header;
  private final MappedByteBuffer[] maps;
  private final long mappingBytes;

  /**
   * Maps {@code file} after checking its header.
   *
   * @throws ai.lmtrain.io.FileFormatException for a bad header or size
   */
  public static TokenShard open(Path file) throws IOException {
    return new TokenShard(file, MAPPING_BYTES);
  }

  /** Package-private: a smaller mapping size lets tests cross mapping boundaries with small files. */
  TokenShard(Path file, long mappingBytes) throws IOException {
    if (mappingBytes % 4 != 0) {
      throw new IllegalArgumentException("mapping size must be a multiple of 4");
    }
    this.file = file;
    this.mappingBytes = mappingBytes;
    FileChannel channel;
    try {
      channel = FileChannel.open(file, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(file.toString(), null, "no such shard file");
    }
    try (channel) {
      this.header = ShardFormat.read(file, channel);
      long dataBytes = header.tokens() * header.tokenBytes();
      int n = (int) ((dataBytes + mappingBytes - 1) / mappingBytes);
      this.maps = new MappedByteBuffer[n];
      for (int i = 0; i < n; i++) {
        long offset = i * mappingBytes;
        long length = Math.min(mappingBytes, dataBytes - offset);
        maps[i] = channel.map(FileChannel.MapMode.READ_ONLY, ShardFormat.HEADER_BYTES + offset, length);
        maps[i].order(ByteOrder.LITTLE_ENDIAN);
      }
    }
  }

  /** The file. */
  public Path file() {
    return file;
  }

  /** The header. */
  public ShardFormat.Header header() {
    return header;
  }

  /** Number of tokens. */
  public long size() {
    return header.tokens();
  }

  /** Token {@code index} (an unsigned id). */
  public int get(long index) {
    Objects.checkIndex(index, header.tokens());
    long byteOffset = index * header.tokenBytes();
    MappedByteBuffer map = maps[(int) (byteOffset / mappingBytes)];
    int at = (int) (byteOffset % mappingBytes);
    return header.tokenBytes() == 2 ? Short.toUnsignedInt(map.getShort(at)) : map.getInt(at);
  }

  /** Copies tokens {@code [from, from + length)} into {@code dst[offset, offset + length)}. */
  public void read(long from, int[] dst, int offset, int length) {
    Objects.checkFromIndexSize(from, length, header.tokens());
    for (int i = 0; i < length; i++) {
      dst[offset + i] = get(from + i);
    }
  }
}
