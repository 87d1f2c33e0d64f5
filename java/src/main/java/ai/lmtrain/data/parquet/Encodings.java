package ai.lmtrain.data.parquet;

/**
 * Parquet's value encodings for what a string column holds: the RLE / bit-packed hybrid
 * (definition levels, dictionary indices), DELTA_BINARY_PACKED (the lengths and prefix lengths of
 * the DELTA_* byte-array encodings), and the byte-array layouts PLAIN, DELTA_LENGTH_BYTE_ARRAY
 * and DELTA_BYTE_ARRAY. Values are decoded into (offset, length) slices of a byte array.
 */
final class Encodings {
  static final int PLAIN = 0;
  static final int PLAIN_DICTIONARY = 2;
  static final int RLE = 3;
  static final int DELTA_BINARY_PACKED = 5;
  static final int DELTA_LENGTH_BYTE_ARRAY = 6;
  static final int DELTA_BYTE_ARRAY = 7;
  static final int RLE_DICTIONARY = 8;

  private Encodings() {}

  /** Byte-array values: value i is {@code data[offsets[i] .. offsets[i] + lengths[i])}. */
  record ByteArrays(byte[] data, int[] offsets, int[] lengths) {}

  /**
   * Decodes {@code count} RLE / bit-packed hybrid values of {@code bitWidth} bits from
   * {@code buf[pos, end)} into {@code out}; returns the position after the last run used.
   */
  static int decodeHybrid(byte[] buf, int pos, int end, int bitWidth, int[] out, int count) {
    int n = 0;
    int valueBytes = (bitWidth + 7) / 8;
    while (n < count) {
      long[] header = varint(buf, pos, end);
      pos = (int) header[1];
      long h = header[0];
      if ((h & 1) == 0) {
        long run = h >>> 1;
        need(pos + valueBytes <= end);
        int value = 0;
        for (int b = 0; b < valueBytes; b++) {
          value |= (buf[pos + b] & 0xFF) << (8 * b);
        }
        pos += valueBytes;
        for (long k = 0; k < run && n < count; k++) {
          out[n++] = value;
        }
      } else {
        long groups = h >>> 1;
        long values = groups * 8;
        long bytes = groups * bitWidth;
        need(pos + bytes <= end);
        long bit = (long) pos * 8;
        for (long k = 0; k < values; k++) {
          if (n < count) {
            out[n++] = readBits(buf, bit, bitWidth);
          }
          bit += bitWidth;
        }
        pos += (int) bytes;
      }
    }
    return pos;
  }

  /** Bits {@code [bit, bit + width)} of {@code buf}, least significant first (width &lt;= 32). */
  private static int readBits(byte[] buf, long bit, int width) {
    if (width == 0) {
      return 0;
    }
    long v = 0;
    int byteIndex = (int) (bit >>> 3);
    int shift = (int) (bit & 7);
    int needed = (shift + width + 7) / 8;
    for (int i = 0; i < needed; i++) {
      v |= (long) (buf[byteIndex + i] & 0xFF) << (8 * i);
    }
    return (int) ((v >>> shift) & ((1L << width) - 1));
  }

  /**
   * DELTA_BINARY_PACKED: decodes up to {@code out.length} values (the header's total count when it
   * is smaller) from {@code buf[pos, end)}; returns {count, position after the used blocks}.
   */
  static int[] decodeDeltaBinaryPacked(byte[] buf, int pos, int end, int[] out) {
    long[] v = varint(buf, pos, end);
    int blockSize = (int) v[0];
    v = varint(buf, (int) v[1], end);
    int miniblocks = (int) v[0];
    v = varint(buf, (int) v[1], end);
    long total = v[0];
    v = varint(buf, (int) v[1], end);
    long value = (v[0] >>> 1) ^ -(v[0] & 1);
    pos = (int) v[1];
    if (blockSize <= 0 || miniblocks <= 0 || blockSize % miniblocks != 0 || (blockSize / miniblocks) % 8 != 0) {
      throw new IllegalStateException("bad DELTA_BINARY_PACKED header (block " + blockSize + ", miniblocks "
          + miniblocks + ")");
    }
    int count = (int) Math.min(total, out.length);
    int perMini = blockSize / miniblocks;
    int n = 0;
    if (count > 0) {
      out[n++] = (int) value;
    }
    while (n < total) {
      v = varint(buf, pos, end);
      long minDelta = (v[0] >>> 1) ^ -(v[0] & 1);
      pos = (int) v[1];
      need(pos + miniblocks <= end);
      int widthsAt = pos;
      pos += miniblocks;
      for (int m = 0; m < miniblocks && n < total; m++) {
        int width = buf[widthsAt + m] & 0xFF;
        if (width > 64) {
          throw new IllegalStateException("bad DELTA_BINARY_PACKED bit width " + width);
        }
        int bytes = perMini * width / 8;
        need(pos + bytes <= end);
        long bit = (long) pos * 8;
        for (int k = 0; k < perMini && n < total; k++) {
          long packed = width <= 32 ? readBits(buf, bit, width) & 0xFFFFFFFFL : readLongBits(buf, bit, width);
          value += minDelta + packed;
          if (n < count) {
            out[n] = (int) value;
          }
          n++;
          bit += width;
        }
        pos += bytes;
      }
    }
    return new int[] {count, pos};
  }

  private static long readLongBits(byte[] buf, long bit, int width) {
    long lo = readBits(buf, bit, 32) & 0xFFFFFFFFL;
    long hi = readBits(buf, bit + 32, width - 32) & 0xFFFFFFFFL;
    return lo | (hi << 32);
  }

  /** {@code count} PLAIN byte arrays (a 4-byte little-endian length before each) from {@code buf[pos, end)}. */
  static ByteArrays plain(byte[] buf, int pos, int end, int count) {
    int[] offsets = new int[count];
    int[] lengths = new int[count];
    for (int i = 0; i < count; i++) {
      need(pos + 4 <= end);
      int len = (buf[pos] & 0xFF) | (buf[pos + 1] & 0xFF) << 8 | (buf[pos + 2] & 0xFF) << 16 | (buf[pos + 3] & 0xFF) << 24;
      pos += 4;
      need(len >= 0 && len <= end - pos);
      offsets[i] = pos;
      lengths[i] = len;
      pos += len;
    }
    return new ByteArrays(buf, offsets, lengths);
  }

  /** DELTA_LENGTH_BYTE_ARRAY: the lengths (delta-packed), then all the bytes back to back. */
  static ByteArrays deltaLength(byte[] buf, int pos, int end, int count) {
    int[] lengths = new int[count];
    int[] r = decodeDeltaBinaryPacked(buf, pos, end, lengths);
    need(r[0] == count);
    pos = r[1];
    int[] offsets = new int[count];
    for (int i = 0; i < count; i++) {
      need(lengths[i] >= 0 && lengths[i] <= end - pos);
      offsets[i] = pos;
      pos += lengths[i];
    }
    return new ByteArrays(buf, offsets, lengths);
  }

  /** DELTA_BYTE_ARRAY: prefix lengths shared with the previous value, then the suffixes (DELTA_LENGTH_BYTE_ARRAY). */
  static ByteArrays deltaByteArray(byte[] buf, int pos, int end, int count) {
    int[] prefixes = new int[count];
    int[] r = decodeDeltaBinaryPacked(buf, pos, end, prefixes);
    need(r[0] == count);
    ByteArrays suffixes = deltaLength(buf, r[1], end, count);
    int total = 0;
    for (int i = 0; i < count; i++) {
      need(prefixes[i] >= 0 && (i > 0 || prefixes[i] == 0));
      total += prefixes[i] + suffixes.lengths()[i];
    }
    byte[] data = new byte[total];
    int[] offsets = new int[count];
    int[] lengths = new int[count];
    int at = 0;
    for (int i = 0; i < count; i++) {
      int prefix = prefixes[i];
      need(i == 0 || prefix <= lengths[i - 1]);
      if (prefix > 0) {
        System.arraycopy(data, offsets[i - 1], data, at, prefix);
      }
      System.arraycopy(buf, suffixes.offsets()[i], data, at + prefix, suffixes.lengths()[i]);
      offsets[i] = at;
      lengths[i] = prefix + suffixes.lengths()[i];
      at += lengths[i];
    }
    return new ByteArrays(data, offsets, lengths);
  }

  /** Reads an unsigned varint at {@code pos}: {value, position after it}. */
  static long[] varint(byte[] buf, int pos, int end) {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      need(pos < end);
      byte b = buf[pos++];
      v |= (long) (b & 0x7F) << shift;
      if (b >= 0) {
        return new long[] {v, pos};
      }
    }
    throw new IllegalStateException("varint longer than 10 bytes");
  }

  private static void need(boolean ok) {
    if (!ok) {
      throw new IllegalStateException("page data ends early or holds an out-of-range length");
    }
  }
}
