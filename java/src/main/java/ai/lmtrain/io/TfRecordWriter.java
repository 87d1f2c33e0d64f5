package ai.lmtrain.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * Appends TFRecord-framed records to a file, the container of TensorFlow / TensorBoard event
 * files. Each record, little-endian:
 * <pre>
 *   uint64  length
 *   uint32  masked CRC32C of the 8 length bytes
 *   byte    data[length]
 *   uint32  masked CRC32C of the data
 * </pre>
 * with mask(crc) = ((crc &gt;&gt;&gt; 15) | (crc &lt;&lt; 17)) + 0xa282ead8 (mod 2^32). Every record is
 * written whole and flushed to the operating system, so a reader never sees half of one unless the
 * process dies inside the write; TensorBoard skips such a truncated tail.
 */
public final class TfRecordWriter implements AutoCloseable {
  private static final int MASK_DELTA = 0xa282ead8;

  private final Path file;
  private final FileChannel channel;

  private TfRecordWriter(Path file, FileChannel channel) {
    this.file = file;
    this.channel = channel;
  }

  /** Creates {@code file}, which must not exist yet. */
  public static TfRecordWriter create(Path file) throws IOException {
    return new TfRecordWriter(file, FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
  }

  /** The file being written. */
  public Path file() {
    return file;
  }

  /** Appends one record holding {@code data}. */
  public synchronized void write(byte[] data) throws IOException {
    ByteBuffer record = ByteBuffer.allocate(8 + 4 + data.length + 4).order(ByteOrder.LITTLE_ENDIAN);
    record.putLong(data.length);
    record.putInt(maskedCrc32c(record.array(), 0, 8));
    record.put(data);
    record.putInt(maskedCrc32c(data, 0, data.length));
    record.flip();
    while (record.hasRemaining()) {
      channel.write(record);
    }
  }

  /** TFRecord's masked CRC32C (Castagnoli) of {@code length} bytes from {@code offset}. */
  public static int maskedCrc32c(byte[] bytes, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, offset, length);
    int c = (int) crc.getValue();
    return ((c >>> 15) | (c << 17)) + MASK_DELTA;
  }

  @Override
  public synchronized void close() throws IOException {
    channel.close();
  }
}
