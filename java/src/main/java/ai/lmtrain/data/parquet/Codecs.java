package ai.lmtrain.data.parquet;

import com.github.luben.zstd.Zstd;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;
import org.xerial.snappy.Snappy;

/** Page decompression for the codecs Parquet writers use for text: none, SNAPPY, GZIP and ZSTD. */
final class Codecs {
  static final int UNCOMPRESSED = 0;
  static final int SNAPPY = 1;
  static final int GZIP = 2;
  static final int ZSTD = 6;
  private static final String[] NAMES = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};

  private Codecs() {}

  /** The codec's parquet-format name. */
  static String name(int codec) {
    return codec >= 0 && codec < NAMES.length ? NAMES[codec] : "codec " + codec;
  }

  /** Whether {@link #decompress} handles {@code codec}. */
  static boolean supported(int codec) {
    return codec == UNCOMPRESSED || codec == SNAPPY || codec == GZIP || codec == ZSTD;
  }

  /**
   * Decompresses {@code in[off, off + len)} into exactly {@code size} bytes.
   *
   * @throws IOException when the data is corrupt or does not decompress to {@code size} bytes
   */
  static byte[] decompress(int codec, byte[] in, int off, int len, int size) throws IOException {
    byte[] out = new byte[size];
    int produced;
    switch (codec) {
      case UNCOMPRESSED -> {
        if (len != size) {
          throw new IOException("an uncompressed page of " + len + " bytes claims " + size);
        }
        System.arraycopy(in, off, out, 0, len);
        produced = len;
      }
      case SNAPPY -> {
        if (!Snappy.isValidCompressedBuffer(in, off, len) || Snappy.uncompressedLength(in, off, len) != size) {
          throw new IOException("corrupt snappy page");
        }
        produced = Snappy.uncompress(in, off, len, out, 0);
      }
      case GZIP -> produced = readAll(new GZIPInputStream(new ByteArrayInputStream(in, off, len)), out);
      case ZSTD -> {
        long n = Zstd.decompressByteArray(out, 0, size, in, off, len);
        if (Zstd.isError(n)) {
          throw new IOException("corrupt zstd page (" + Zstd.getErrorName(n) + ")");
        }
        produced = (int) n;
      }
      default -> throw new IOException("unsupported codec " + name(codec));
    }
    if (produced != size) {
      throw new IOException(name(codec) + " page decompressed to " + produced + " bytes, its header says " + size);
    }
    return out;
  }

  private static int readAll(InputStream in, byte[] out) throws IOException {
    try (in) {
      int n = 0;
      while (n < out.length) {
        int r = in.read(out, n, out.length - n);
        if (r < 0) {
          break;
        }
        n += r;
      }
      if (n == out.length && in.read() >= 0) {
        throw new IOException("gzip page holds more than its header says");
      }
      return n;
    }
  }
}
