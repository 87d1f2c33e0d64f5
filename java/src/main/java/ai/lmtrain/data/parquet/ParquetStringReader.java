package ai.lmtrain.data.parquet;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Streams the values of one top-level string column of a Parquet file, page by page: the footer is
 * read once, then each row group's column chunk is read one page at a time (memory: one page and
 * the chunk's dictionary). Written from the parquet-format specification, with no Hadoop: data
 * pages v1 and v2, PLAIN, dictionary (PLAIN_DICTIONARY / RLE_DICTIONARY), DELTA_LENGTH_BYTE_ARRAY
 * and DELTA_BYTE_ARRAY values, and uncompressed, SNAPPY, GZIP or ZSTD pages. Null values are
 * skipped; strings must be valid UTF-8.
 *
 * <p>Errors are {@link ParquetException}s naming the file and, inside a page, the row group and
 * row.
 */
public final class ParquetStringReader implements Closeable {
  private static final byte[] MAGIC = {'P', 'A', 'R', '1'};
  private static final int DATA_PAGE = 0;
  private static final int DICTIONARY_PAGE = 2;
  private static final int DATA_PAGE_V2 = 3;

  private final Path file;
  private final String column;
  private final FileChannel channel;
  private final ParquetMetadata.FileMetaData meta;
  private final int columnIndex;
  private final int maxDefinitionLevel;
  private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
      .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);

  private int rowGroup = -1;
  private long chunkPos;
  private long chunkEnd;
  private long chunkValuesLeft;
  private int codec;
  private String[] dictionary;
  private String[] page = new String[0];
  private int pageSize;
  private int pageIndex;
  private long rowsBeforePage;
  private long rowsBeforeGroup;
  private long bytesRead;

  /**
   * Opens {@code file} and finds {@code column}.
   *
   * @throws ParquetException if the file is not Parquet, its footer is corrupt, or the column is
   *     missing, nested, repeated or not a string (BYTE_ARRAY) column
   */
  public ParquetStringReader(Path file, String column) throws IOException {
    this.file = file;
    this.column = column;
    try {
      this.channel = FileChannel.open(file, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(file.toString(), null, "no such file");
    }
    try {
      this.meta = readFooter();
      this.columnIndex = findColumn();
      ParquetMetadata.SchemaElement leaf = leafOf(columnIndex);
      this.maxDefinitionLevel = leaf.repetition() == ParquetMetadata.OPTIONAL ? 1 : 0;
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  /** Row groups in the file. */
  public int rowGroups() {
    return meta.rowGroups().size();
  }

  /** Total rows in the file (nulls included). */
  public long rows() {
    return meta.numRows();
  }

  /** Compressed bytes of the column read so far (for progress). */
  public long bytesRead() {
    return bytesRead;
  }

  /** The 1-based row number of the value last returned by {@link #next()}. */
  public long row() {
    return rowsBeforePage + pageIndex;
  }

  /**
   * The next non-null value, or {@code null} after the last one.
   *
   * @throws ParquetException if a page is corrupt or uses an unsupported encoding or codec
   */
  public String next() throws IOException {
    while (true) {
      while (pageIndex < pageSize) {
        String s = page[pageIndex++];
        if (s != null) {
          return s;
        }
      }
      rowsBeforePage += pageSize;
      pageIndex = 0;
      pageSize = 0;
      if (chunkValuesLeft <= 0 && !nextRowGroup()) {
        return null;
      }
      readPage();
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }

  private ParquetMetadata.FileMetaData readFooter() throws IOException {
    long size = channel.size();
    if (size < 12) {
      throw corrupt("not a Parquet file (" + size + " bytes, too short for one)");
    }
    ByteBuffer tail = read(size - 8, 8);
    int footerLength = tail.order(ByteOrder.LITTLE_ENDIAN).getInt(0);
    byte[] head = read(0, 4).array();
    if (!matchesMagic(head) || !matchesMagic(java.util.Arrays.copyOfRange(tail.array(), 4, 8))) {
      throw corrupt("not a Parquet file (no PAR1 magic at its start and end)");
    }
    if (footerLength <= 0 || footerLength > size - 12) {
      throw corrupt("corrupt Parquet footer (length " + footerLength + " in a file of " + size + " bytes)");
    }
    byte[] footer = read(size - 8 - footerLength, footerLength).array();
    try {
      return ParquetMetadata.parse(footer);
    } catch (ThriftCompact.Underflow | IllegalStateException e) {
      throw corrupt("corrupt Parquet footer (" + e.getMessage() + ")");
    }
  }

  private static boolean matchesMagic(byte[] b) {
    return java.util.Arrays.equals(b, MAGIC);
  }

  /** The index of the column chunk (within each row group) of the top-level field {@code column}. */
  private int findColumn() throws ParquetException {
    List<ParquetMetadata.SchemaElement> schema = meta.schema();
    if (schema.isEmpty()) {
      throw corrupt("corrupt Parquet footer (empty schema)");
    }
    List<String> topLevel = new ArrayList<>();
    int leaf = 0;
    int i = 1;
    for (int child = 0; child < schema.get(0).children() && i < schema.size(); child++) {
      ParquetMetadata.SchemaElement e = schema.get(i);
      topLevel.add(e.name());
      int leaves = countLeaves(schema, i);
      if (e.name().equals(column)) {
        if (e.children() > 0 || e.repetition() == ParquetMetadata.REPEATED) {
          throw new ParquetException(file + ": column '" + column + "' is a nested or repeated field; expected a"
              + " string column");
        }
        if (e.type() != ParquetMetadata.BYTE_ARRAY) {
          throw new ParquetException(file + ": column '" + column + "' has type " + typeName(e.type())
              + "; expected a string (BYTE_ARRAY) column");
        }
        return leaf;
      }
      leaf += leaves;
      i = skipSubtree(schema, i);
    }
    throw new ParquetException(file + ": no column '" + column + "' (columns: " + String.join(", ", topLevel)
        + "); choose one with --text-field");
  }

  private ParquetMetadata.SchemaElement leafOf(int leafIndex) {
    int leaf = 0;
    for (int i = 1; i < meta.schema().size(); i++) {
      ParquetMetadata.SchemaElement e = meta.schema().get(i);
      if (e.children() == 0) {
        if (leaf == leafIndex) {
          return e;
        }
        leaf++;
      }
    }
    throw new IllegalStateException("leaf " + leafIndex + " not in the schema");
  }

  private static int countLeaves(List<ParquetMetadata.SchemaElement> schema, int at) {
    int end = skipSubtree(schema, at);
    int n = 0;
    for (int i = at; i < end; i++) {
      n += schema.get(i).children() == 0 ? 1 : 0;
    }
    return n;
  }

  /** The index after the subtree rooted at {@code at} (depth-first layout). */
  private static int skipSubtree(List<ParquetMetadata.SchemaElement> schema, int at) {
    int pending = 1;
    int i = at;
    while (pending > 0 && i < schema.size()) {
      pending += schema.get(i).children() - 1;
      i++;
    }
    return i;
  }

  private static String typeName(int type) {
    return type >= 0 && type < ParquetMetadata.TYPE_NAMES.length ? ParquetMetadata.TYPE_NAMES[type] : "type " + type;
  }

  private boolean nextRowGroup() throws IOException {
    if (rowGroup >= 0) {
      rowsBeforeGroup += meta.rowGroups().get(rowGroup).numRows();
    }
    rowGroup++;
    if (rowGroup >= meta.rowGroups().size()) {
      return false;
    }
    ParquetMetadata.RowGroup g = meta.rowGroups().get(rowGroup);
    if (columnIndex >= g.columns().size()) {
      throw corrupt("row group " + rowGroup + " has " + g.columns().size() + " column chunks, expected more than "
          + columnIndex);
    }
    ParquetMetadata.Column c = g.columns().get(columnIndex);
    if (!Codecs.supported(c.codec())) {
      throw new ParquetException(file + ": column '" + column + "' is compressed with " + Codecs.name(c.codec())
          + "; supported: UNCOMPRESSED, SNAPPY, GZIP, ZSTD");
    }
    if (c.start() < 4 || c.compressedSize() < 0 || c.start() + c.compressedSize() > channel.size()) {
      throw corrupt("row group " + rowGroup + ": column chunk outside the file");
    }
    codec = c.codec();
    chunkPos = c.start();
    chunkEnd = c.start() + c.compressedSize();
    chunkValuesLeft = c.numValues();
    dictionary = null;
    rowsBeforePage = rowsBeforeGroup;
    return true;
  }

  /** Reads the next page of the chunk: a dictionary page (kept) or a data page (decoded into {@link #page}). */
  private void readPage() throws IOException {
    if (chunkPos >= chunkEnd) {
      throw corrupt("row group " + rowGroup + ": column chunk ends with " + chunkValuesLeft + " values missing");
    }
    PageHeader h = readPageHeader();
    if (h.compressedSize < 0 || h.uncompressedSize < 0 || h.compressedSize > chunkEnd - chunkPos) {
      throw corrupt("row group " + rowGroup + ": page of " + h.compressedSize + " bytes runs past its column chunk");
    }
    byte[] raw = read(chunkPos, h.compressedSize).array();
    chunkPos += h.compressedSize;
    bytesRead += h.compressedSize + h.headerSize;
    try {
      switch (h.type) {
        case DICTIONARY_PAGE -> dictionary = decodeDictionary(h, raw);
        case DATA_PAGE -> dataPageV1(h, raw);
        case DATA_PAGE_V2 -> dataPageV2(h, raw);
        default -> { } // index pages and unknown pages are skipped
      }
    } catch (IllegalStateException | ArrayIndexOutOfBoundsException e) {
      throw corrupt("row group " + rowGroup + ", rows from " + (rowsBeforePage + 1) + ": corrupt page ("
          + e.getMessage() + ")");
    }
  }

  private String[] decodeDictionary(PageHeader h, byte[] raw) throws IOException {
    if (h.encoding != Encodings.PLAIN && h.encoding != Encodings.PLAIN_DICTIONARY) {
      throw corrupt("row group " + rowGroup + ": dictionary page with encoding " + h.encoding + ", expected PLAIN");
    }
    byte[] data = decompress(raw, 0, raw.length, h.uncompressedSize);
    return strings(Encodings.plain(data, 0, data.length, h.numValues), h.numValues);
  }

  private void dataPageV1(PageHeader h, byte[] raw) throws IOException {
    byte[] data = decompress(raw, 0, raw.length, h.uncompressedSize);
    int pos = 0;
    int[] defs = null;
    if (maxDefinitionLevel > 0) {
      if (h.definitionLevelEncoding != Encodings.RLE) {
        throw unsupported("definition levels encoded with " + h.definitionLevelEncoding);
      }
      int len = littleEndianInt(data, pos);
      pos += 4;
      if (len < 0 || len > data.length - pos) {
        throw new IllegalStateException("definition levels run past the page");
      }
      defs = new int[h.numValues];
      Encodings.decodeHybrid(data, pos, pos + len, 1, defs, h.numValues);
      pos += len;
    }
    values(h, data, pos, data.length, defs);
  }

  private void dataPageV2(PageHeader h, byte[] raw) throws IOException {
    int levels = h.repetitionLevelsLength + h.definitionLevelsLength;
    if (h.repetitionLevelsLength < 0 || h.definitionLevelsLength < 0 || levels > raw.length) {
      throw new IllegalStateException("levels longer than the page");
    }
    int[] defs = null;
    if (maxDefinitionLevel > 0) {
      defs = new int[h.numValues];
      int at = h.repetitionLevelsLength;
      Encodings.decodeHybrid(raw, at, at + h.definitionLevelsLength, 1, defs, h.numValues);
    }
    byte[] data;
    int from;
    if (h.compressed) {
      data = decompress(raw, levels, raw.length - levels, h.uncompressedSize - levels);
      from = 0;
    } else {
      data = raw;
      from = levels;
    }
    values(h, data, from, data.length, defs);
  }

  /** Decodes the page's values into {@link #page} (nulls where the definition level is below the maximum). */
  private void values(PageHeader h, byte[] data, int pos, int end, int[] defs) throws IOException {
    int n = h.numValues;
    int nonNull = n;
    if (defs != null) {
      nonNull = 0;
      for (int d : defs) {
        nonNull += d == maxDefinitionLevel ? 1 : 0;
      }
    }
    String[] decoded;
    switch (h.encoding) {
      case Encodings.PLAIN -> decoded = strings(Encodings.plain(data, pos, end, nonNull), nonNull);
      case Encodings.DELTA_LENGTH_BYTE_ARRAY -> decoded = strings(Encodings.deltaLength(data, pos, end, nonNull), nonNull);
      case Encodings.DELTA_BYTE_ARRAY -> decoded = strings(Encodings.deltaByteArray(data, pos, end, nonNull), nonNull);
      case Encodings.PLAIN_DICTIONARY, Encodings.RLE_DICTIONARY -> {
        if (dictionary == null) {
          throw new IllegalStateException("dictionary-encoded page without a dictionary page");
        }
        decoded = new String[nonNull];
        if (nonNull > 0) {
          if (pos >= end) {
            throw new IllegalStateException("dictionary indices missing");
          }
          int bitWidth = data[pos] & 0xFF;
          if (bitWidth > 32) {
            throw new IllegalStateException("dictionary index bit width " + bitWidth);
          }
          int[] idx = new int[nonNull];
          Encodings.decodeHybrid(data, pos + 1, end, bitWidth, idx, nonNull);
          for (int i = 0; i < nonNull; i++) {
            if (idx[i] < 0 || idx[i] >= dictionary.length) {
              throw new IllegalStateException("dictionary index " + idx[i] + " out of range " + dictionary.length);
            }
            decoded[i] = dictionary[idx[i]];
          }
        }
      }
      default -> throw unsupported("values encoded with encoding " + h.encoding);
    }
    if (page.length < n) {
      page = new String[Math.max(n, page.length * 2)];
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
      page[i] = defs == null || defs[i] == maxDefinitionLevel ? decoded[k++] : null;
    }
    pageSize = n;
    chunkValuesLeft -= n;
  }

  private String[] strings(Encodings.ByteArrays v, int count) throws ParquetException {
    String[] out = new String[count];
    for (int i = 0; i < count; i++) {
      try {
        out[i] = utf8.decode(ByteBuffer.wrap(v.data(), v.offsets()[i], v.lengths()[i])).toString();
      } catch (CharacterCodingException e) {
        throw new ParquetException(file + ": column '" + column + "', row group " + rowGroup + ": a value is not valid"
            + " UTF-8 (expected a string column)");
      }
    }
    return out;
  }

  private byte[] decompress(byte[] in, int off, int len, int size) throws IOException {
    try {
      return Codecs.decompress(codec, in, off, len, size);
    } catch (IOException | RuntimeException e) {
      throw corrupt("row group " + rowGroup + ", rows from " + (rowsBeforePage + 1) + ": corrupt page ("
          + e.getMessage() + ")");
    }
  }

  /** A parsed page header. */
  private static final class PageHeader {
    int type = -1;
    int uncompressedSize = -1;
    int compressedSize = -1;
    int numValues;
    int encoding;
    int definitionLevelEncoding = Encodings.RLE;
    int definitionLevelsLength;
    int repetitionLevelsLength;
    boolean compressed = true;
    int headerSize;
  }

  private PageHeader readPageHeader() throws IOException {
    int want = (int) Math.min(chunkEnd - chunkPos, 16 << 10);
    while (true) {
      byte[] bytes = read(chunkPos, want).array();
      try {
        PageHeader h = parsePageHeader(new ThriftCompact(bytes, 0, bytes.length));
        chunkPos += h.headerSize;
        return h;
      } catch (ThriftCompact.Underflow e) {
        if (want >= chunkEnd - chunkPos || want >= (64 << 20)) {
          throw corrupt("row group " + rowGroup + ": truncated page header");
        }
        want = (int) Math.min(chunkEnd - chunkPos, (long) want * 4);
      } catch (IllegalStateException e) {
        throw corrupt("row group " + rowGroup + ": corrupt page header (" + e.getMessage() + ")");
      }
    }
  }

  private static PageHeader parsePageHeader(ThriftCompact t) {
    PageHeader h = new PageHeader();
    t.beginStruct();
    while (t.nextField()) {
      switch (t.fieldId()) {
        case 1 -> h.type = t.readI32();
        case 2 -> h.uncompressedSize = t.readI32();
        case 3 -> h.compressedSize = t.readI32();
        case 5, 7, 8 -> {
          int which = t.fieldId();
          t.beginStruct();
          while (t.nextField()) {
            int f = t.fieldId();
            if (f == 1) {
              h.numValues = t.readI32();
            } else if (which == 5 && f == 2 || which == 7 && f == 2 || which == 8 && f == 4) {
              h.encoding = t.readI32();
            } else if (which == 5 && f == 3) {
              h.definitionLevelEncoding = t.readI32();
            } else if (which == 8 && f == 5) {
              h.definitionLevelsLength = t.readI32();
            } else if (which == 8 && f == 6) {
              h.repetitionLevelsLength = t.readI32();
            } else if (which == 8 && f == 7) {
              h.compressed = t.fieldBoolean();
            } else {
              t.skip(t.fieldType());
            }
          }
        }
        default -> t.skip(t.fieldType());
      }
    }
    if (h.type < 0 || h.numValues < 0) {
      throw new IllegalStateException("no page type or a negative value count");
    }
    h.headerSize = t.position();
    return h;
  }

  private static int littleEndianInt(byte[] b, int at) {
    if (at + 4 > b.length) {
      throw new IllegalStateException("page too short for its level length");
    }
    return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8 | (b[at + 2] & 0xFF) << 16 | (b[at + 3] & 0xFF) << 24;
  }

  private ByteBuffer read(long position, int length) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(length);
    while (buf.hasRemaining()) {
      int n = channel.read(buf, position + buf.position());
      if (n < 0) {
        throw new EOFException(file + ": ends early (corrupt or truncated Parquet file)");
      }
    }
    return buf;
  }

  private ParquetException corrupt(String what) {
    return new ParquetException(file + ": " + what);
  }

  private ParquetException unsupported(String what) {
    return new ParquetException(file + ": column '" + column + "': " + what + " is not supported");
  }
}
