package ai.lmtrain.data.corpus;

import com.github.luben.zstd.ZstdInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/** Opens corpus files, decompressing {@code .gz} (gzip, several members allowed) and {@code .zst} (zstd) by name. */
public final class Compression {
  private Compression() {}

  /** A file's bytes as read from disk so far (compressed, for progress), under any decompression. */
  public static final class Counted extends FilterInputStream {
    private long count;

    private Counted(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      count += b >= 0 ? 1 : 0;
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      count += Math.max(n, 0);
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long k = super.skip(n);
      count += k;
      return k;
    }

    /** Bytes read from the file. */
    public long count() {
      return count;
    }
  }

  /** The opened stream and the counter of file bytes under it. */
  public record Opened(InputStream stream, Counted raw) {}

  /** The name without a trailing {@code .gz} or {@code .zst}. */
  static String stripSuffix(String name) {
    if (name.endsWith(".gz")) {
      return name.substring(0, name.length() - 3);
    }
    return name.endsWith(".zst") ? name.substring(0, name.length() - 4) : name;
  }

  /** Whether the name ends in {@code .gz} or {@code .zst}. */
  public static boolean isCompressed(Path file) {
    String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
    return n.endsWith(".gz") || n.endsWith(".zst");
  }

  /**
   * Opens {@code file}, decompressing by its suffix.
   *
   * @throws CorpusException if it is missing, or not gzip/zstd data although its name says so
   */
  public static Opened open(Path file) throws CorpusException {
    InputStream raw;
    try {
      raw = Files.newInputStream(file);
    } catch (NoSuchFileException e) {
      throw new CorpusException(file + ": no such file");
    } catch (IOException e) {
      throw new CorpusException(file + ": cannot read (" + e.getMessage() + ")", e);
    }
    Counted counted = new Counted(raw);
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    try {
      if (name.endsWith(".gz")) {
        return new Opened(new GZIPInputStream(counted, 1 << 16), counted);
      }
      if (name.endsWith(".zst")) {
        return new Opened(new ZstdInputStream(counted), counted);
      }
      return new Opened(counted, counted);
    } catch (IOException e) {
      closeQuietly(counted);
      throw new CorpusException(file + ": not " + (name.endsWith(".gz") ? "gzip" : "zstd") + " data ("
          + e.getMessage() + "), although the name ends in " + name.substring(name.lastIndexOf('.')), e);
    }
  }

  private static void closeQuietly(InputStream in) {
    try {
      in.close();
    } catch (IOException ignored) {
      // the open already failed; that error is the one reported
    }
  }
}
