package ai.lmtrain.data.parquet;

import java.nio.charset.StandardCharsets;

/**
 * A reader of Apache Thrift's compact protocol, the encoding of Parquet's footer and page headers:
 * fields are announced by a byte holding a field-id delta (high nibble) and a type (low nibble),
 * integers are zigzag varints, binaries a varint length then the bytes, lists a size/type byte.
 * Reads from a byte array; running past its end throws {@link Underflow} (the caller may retry
 * with more bytes); anything malformed throws {@link IllegalStateException}.
 */
final class ThriftCompact {
  static final int STOP = 0;
  static final int BOOLEAN_TRUE = 1;
  static final int BOOLEAN_FALSE = 2;
  static final int BYTE = 3;
  static final int I16 = 4;
  static final int I32 = 5;
  static final int I64 = 6;
  static final int DOUBLE = 7;
  static final int BINARY = 8;
  static final int LIST = 9;
  static final int SET = 10;
  static final int MAP = 11;
  static final int STRUCT = 12;

  /** The input ended inside a value. */
  static final class Underflow extends RuntimeException {
    Underflow() {
      super("truncated Thrift data", null, false, false);
    }
  }

  private final byte[] buf;
  private final int end;
  private int pos;
  private final int[] lastFieldIds = new int[64];
  private int depth;
  private int fieldId;
  private int fieldType;

  ThriftCompact(byte[] buf, int offset, int length) {
    this.buf = buf;
    this.pos = offset;
    this.end = offset + length;
  }

  /** The read position. */
  int position() {
    return pos;
  }

  /** Enters a struct (its fields follow). */
  void beginStruct() {
    if (depth == lastFieldIds.length) {
      throw new IllegalStateException("Thrift structs nested too deeply");
    }
    lastFieldIds[depth++] = 0;
  }

  /**
   * Reads the next field header of the current struct: returns false at its STOP byte (and leaves
   * the struct), else true with {@link #fieldId()} and {@link #fieldType()} set.
   */
  boolean nextField() {
    int b = readByte() & 0xFF;
    if (b == STOP) {
      depth--;
      return false;
    }
    int delta = b >>> 4;
    fieldType = b & 0x0F;
    fieldId = delta != 0 ? lastFieldIds[depth - 1] + delta : (short) zigzag32(readVarint32());
    lastFieldIds[depth - 1] = fieldId;
    return true;
  }

  int fieldId() {
    return fieldId;
  }

  int fieldType() {
    return fieldType;
  }

  /** A boolean field's value (carried in its type nibble). */
  boolean fieldBoolean() {
    return fieldType == BOOLEAN_TRUE;
  }

  int readI32() {
    return zigzag32(readVarint32());
  }

  long readI64() {
    long v = readVarint64();
    return (v >>> 1) ^ -(v & 1);
  }

  String readString() {
    int n = readLength();
    String s = new String(buf, pos, n, StandardCharsets.UTF_8);
    pos += n;
    return s;
  }

  /** A list header: returns the element count; {@link #listElementType()} has the element type. */
  int beginList() {
    int b = readByte() & 0xFF;
    listElementType = b & 0x0F;
    int size = b >>> 4;
    if (size == 15) {
      size = readLength();
    }
    return size;
  }

  private int listElementType;

  int listElementType() {
    return listElementType;
  }

  /** Skips a value of {@code type}. */
  void skip(int type) {
    switch (type) {
      case BOOLEAN_TRUE, BOOLEAN_FALSE -> { }
      case BYTE -> readByte();
      case I16, I32 -> readVarint32();
      case I64 -> readVarint64();
      case DOUBLE -> advance(8);
      case BINARY -> advance(readLength());
      case LIST, SET -> {
        int n = beginList();
        int t = listElementType;
        for (int i = 0; i < n; i++) {
          skipElement(t);
        }
      }
      case MAP -> {
        int n = readLength();
        if (n > 0) {
          int kv = readByte() & 0xFF;
          for (int i = 0; i < n; i++) {
            skipElement(kv >>> 4);
            skipElement(kv & 0x0F);
          }
        }
      }
      case STRUCT -> {
        beginStruct();
        while (nextField()) {
          skip(fieldType);
        }
      }
      default -> throw new IllegalStateException("unknown Thrift type " + type);
    }
  }

  /** Inside lists a boolean is a whole byte, not a type nibble. */
  private void skipElement(int type) {
    if (type == BOOLEAN_TRUE || type == BOOLEAN_FALSE) {
      readByte();
    } else {
      skip(type);
    }
  }

  private int readLength() {
    int n = readVarint32();
    if (n < 0) {
      throw new IllegalStateException("negative Thrift length " + n);
    }
    if (n > end - pos) {
      throw new Underflow();
    }
    return n;
  }

  private void advance(int n) {
    if (n > end - pos) {
      throw new Underflow();
    }
    pos += n;
  }

  private byte readByte() {
    if (pos >= end) {
      throw new Underflow();
    }
    return buf[pos++];
  }

  private int readVarint32() {
    return (int) readVarint64();
  }

  private long readVarint64() {
    long v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      byte b = readByte();
      v |= (long) (b & 0x7F) << shift;
      if (b >= 0) {
        return v;
      }
    }
    throw new IllegalStateException("Thrift varint longer than 10 bytes");
  }

  private static int zigzag32(int v) {
    return (v >>> 1) ^ -(v & 1);
  }
}
