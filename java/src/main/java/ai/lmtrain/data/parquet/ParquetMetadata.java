package ai.lmtrain.data.parquet;

import java.util.ArrayList;
import java.util.List;

/**
 * The parts of a Parquet footer ({@code FileMetaData}, Thrift compact) that reading one flat
 * string column needs. Field ids follow parquet-format's {@code parquet.thrift}; other fields are
 * skipped.
 */
final class ParquetMetadata {
  private ParquetMetadata() {}

  /** Physical type BYTE_ARRAY (strings). */
  static final int BYTE_ARRAY = 6;
  static final int REQUIRED = 0;
  static final int OPTIONAL = 1;
  static final int REPEATED = 2;
  static final String[] TYPE_NAMES = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY",
      "FIXED_LEN_BYTE_ARRAY"};

  /**
   * One node of the flattened schema tree (depth first, root first).
   *
   * @param name field name
   * @param type physical type, or -1 for a group
   * @param repetition REQUIRED, OPTIONAL or REPEATED (-1 for the root)
   * @param children number of children (0 for a leaf)
   */
  record SchemaElement(String name, int type, int repetition, int children) {}

  /**
   * A column chunk of one row group.
   *
   * @param path the column's path in the schema
   * @param type physical type
   * @param codec parquet-format CompressionCodec
   * @param numValues values in the chunk, nulls included
   * @param compressedSize bytes of all its pages, headers included
   * @param dataPageOffset file offset of the first data page
   * @param dictionaryPageOffset file offset of the dictionary page, or -1
   */
  record Column(List<String> path, int type, int codec, long numValues, long compressedSize, long dataPageOffset,
      long dictionaryPageOffset) {

    /** Where the chunk's first page starts. */
    long start() {
      return dictionaryPageOffset > 0 && dictionaryPageOffset < dataPageOffset ? dictionaryPageOffset : dataPageOffset;
    }
  }

  /** A row group: its row count and column chunks. */
  record RowGroup(long numRows, List<Column> columns) {}

  /** The footer. */
  record FileMetaData(List<SchemaElement> schema, long numRows, List<RowGroup> rowGroups) {}

  /** Parses a footer. */
  static FileMetaData parse(byte[] footer) {
    ThriftCompact t = new ThriftCompact(footer, 0, footer.length);
    List<SchemaElement> schema = new ArrayList<>();
    List<RowGroup> groups = new ArrayList<>();
    long numRows = 0;
    t.beginStruct();
    while (t.nextField()) {
      switch (t.fieldId()) {
        case 2 -> {
          int n = t.beginList();
          for (int i = 0; i < n; i++) {
            schema.add(schemaElement(t));
          }
        }
        case 3 -> numRows = t.readI64();
        case 4 -> {
          int n = t.beginList();
          for (int i = 0; i < n; i++) {
            groups.add(rowGroup(t));
          }
        }
        default -> t.skip(t.fieldType());
      }
    }
    return new FileMetaData(schema, numRows, groups);
  }

  private static SchemaElement schemaElement(ThriftCompact t) {
    String name = null;
    int type = -1;
    int repetition = -1;
    int children = 0;
    t.beginStruct();
    while (t.nextField()) {
      switch (t.fieldId()) {
        case 1 -> type = t.readI32();
        case 3 -> repetition = t.readI32();
        case 4 -> name = t.readString();
        case 5 -> children = t.readI32();
        default -> t.skip(t.fieldType());
      }
    }
    return new SchemaElement(name, type, repetition, children);
  }

  private static RowGroup rowGroup(ThriftCompact t) {
    List<Column> columns = new ArrayList<>();
    long rows = 0;
    t.beginStruct();
    while (t.nextField()) {
      switch (t.fieldId()) {
        case 1 -> {
          int n = t.beginList();
          for (int i = 0; i < n; i++) {
            columns.add(columnChunk(t));
          }
        }
        case 3 -> rows = t.readI64();
        default -> t.skip(t.fieldType());
      }
    }
    return new RowGroup(rows, columns);
  }

  private static Column columnChunk(ThriftCompact t) {
    Column meta = null;
    t.beginStruct();
    while (t.nextField()) {
      if (t.fieldId() == 1) {
        t.readString(); // file_path: columns in other files are not supported (checked by the reader)
        throw new IllegalStateException("the column chunk lives in another file (file_path set)");
      } else if (t.fieldId() == 3 && t.fieldType() == ThriftCompact.STRUCT) {
        meta = columnMetaData(t);
      } else {
        t.skip(t.fieldType());
      }
    }
    if (meta == null) {
      throw new IllegalStateException("a column chunk has no meta_data");
    }
    return meta;
  }

  private static Column columnMetaData(ThriftCompact t) {
    int type = -1;
    int codec = 0;
    List<String> path = new ArrayList<>();
    long numValues = 0;
    long compressed = 0;
    long dataOffset = -1;
    long dictOffset = -1;
    t.beginStruct();
    while (t.nextField()) {
      switch (t.fieldId()) {
        case 1 -> type = t.readI32();
        case 3 -> {
          int n = t.beginList();
          for (int i = 0; i < n; i++) {
            path.add(t.readString());
          }
        }
        case 4 -> codec = t.readI32();
        case 5 -> numValues = t.readI64();
        case 7 -> compressed = t.readI64();
        case 9 -> dataOffset = t.readI64();
        case 11 -> dictOffset = t.readI64();
        default -> t.skip(t.fieldType());
      }
    }
    return new Column(List.copyOf(path), type, codec, numValues, compressed, dataOffset, dictOffset);
  }
}
