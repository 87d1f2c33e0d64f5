package ai.lmtrain.data.parquet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Parquet reader against files written by Apache parquet-mr ({@code scripts/data/parquet-fixtures}):
 * every codec, page version and value encoding a string column takes, over several row groups.
 */
class ParquetStringReaderTest {
  static final String FIXTURES = "/ai/lmtrain/data/parquet/";

  @TempDir Path tmp;

  /** A fixture copied out of the test resources. */
  static Path fixture(Path dir, String name) throws IOException {
    Path p = dir.resolve(name);
    try (InputStream in = ParquetStringReaderTest.class.getResourceAsStream(FIXTURES + name)) {
      Files.copy(in, p);
    }
    return p;
  }

  /** The fixtures' rows (null for a null value). */
  static List<String> expectedRows() throws IOException {
    List<String> rows = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    try (InputStream in = ParquetStringReaderTest.class.getResourceAsStream(FIXTURES + "rows.jsonl")) {
      for (String line : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
        JsonNode n = json.readTree(line);
        rows.add(n.isNull() ? null : n.asText());
      }
    }
    return rows;
  }

  @ParameterizedTest
  @ValueSource(strings = {"snappy_v1_dictionary.parquet", "zstd_v2_delta.parquet", "gzip_v1_plain.parquet",
      "uncompressed_v2_dictionary.parquet"})
  void readsEveryRowOfParquetMrFiles(String name) throws IOException {
    Path file = fixture(tmp, name);
    List<String> expected = expectedRows();
    boolean required = name.startsWith("gzip");
    List<String> got = new ArrayList<>();
    List<Long> rowNumbers = new ArrayList<>();
    try (ParquetStringReader r = new ParquetStringReader(file, "text")) {
      assertTrue(r.rowGroups() > 1, name + " should have several row groups, has " + r.rowGroups());
      assertEquals(expected.size(), r.rows());
      for (String s; (s = r.next()) != null; ) {
        got.add(s);
        rowNumbers.add(r.row());
      }
      assertEquals(Files.size(file) > 0, r.bytesRead() > 0);
    }
    List<String> want = new ArrayList<>();
    List<Long> wantRows = new ArrayList<>();
    for (int i = 0; i < expected.size(); i++) {
      String e = expected.get(i);
      if (e == null && required) {
        e = ""; // the required file stores nulls as empty strings
      }
      if (e != null) {
        want.add(e);
        wantRows.add(i + 1L);
      }
    }
    assertEquals(want, got);
    assertEquals(wantRows, rowNumbers);
  }

  @Test
  void namesTheFileAndTheColumnsWhenTheColumnIsMissing() throws IOException {
    Path file = fixture(tmp, "snappy_v1_dictionary.parquet");
    ParquetException e = assertThrows(ParquetException.class, () -> new ParquetStringReader(file, "content"));
    assertEquals(file + ": no column 'content' (columns: id, text, meta); choose one with --text-field", e.getMessage());
    ParquetException notString = assertThrows(ParquetException.class, () -> new ParquetStringReader(file, "id"));
    assertEquals(file + ": column 'id' has type INT64; expected a string (BYTE_ARRAY) column", notString.getMessage());
  }

  @Test
  void rejectsAFileThatIsNotParquet() throws IOException {
    Path file = tmp.resolve("x.parquet");
    Files.writeString(file, "{\"text\": \"this is JSON\"}\n");
    ParquetException e = assertThrows(ParquetException.class, () -> new ParquetStringReader(file, "text"));
    assertEquals(file + ": not a Parquet file (no PAR1 magic at its start and end)", e.getMessage());
  }

  /** The file offset of the first page of column 'text' (leaf 1) in the first row group. */
  private static long firstTextPage(byte[] file) {
    int n = file.length;
    int footerLength = (file[n - 8] & 0xFF) | (file[n - 7] & 0xFF) << 8 | (file[n - 6] & 0xFF) << 16
        | (file[n - 5] & 0xFF) << 24;
    byte[] footer = java.util.Arrays.copyOfRange(file, n - 8 - footerLength, n - 8);
    return ParquetMetadata.parse(footer).rowGroups().get(0).columns().get(1).start();
  }

  private static String readAll(Path file) throws IOException {
    try (ParquetStringReader r = new ParquetStringReader(file, "text")) {
      StringBuilder sb = new StringBuilder();
      for (String s; (s = r.next()) != null; ) {
        sb.append(s);
      }
      return sb.toString();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"snappy_v1_dictionary.parquet", "zstd_v2_delta.parquet", "gzip_v1_plain.parquet"})
  void aCorruptPageHeaderIsOneClearError(String name) throws IOException {
    Path file = fixture(tmp, name);
    byte[] bytes = Files.readAllBytes(file);
    int at = (int) firstTextPage(bytes);
    java.util.Arrays.fill(bytes, at, at + 8, (byte) 0xFF);
    Files.write(file, bytes);
    ParquetException e = assertThrows(ParquetException.class, () -> readAll(file));
    assertEquals(file + ": row group 0: corrupt page header (unknown Thrift type 15)", e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"zstd_v2_delta.parquet", "gzip_v1_plain.parquet"})
  void corruptCompressedDataIsOneClearError(String name) throws IOException {
    Path file = fixture(tmp, name);
    byte[] bytes = Files.readAllBytes(file);
    int at = (int) firstTextPage(bytes) + 40; // past the page header, inside the compressed values
    for (int i = at; i < at + 64; i++) {
      bytes[i] ^= 0x5A;
    }
    Files.write(file, bytes);
    ParquetException e = assertThrows(ParquetException.class, () -> readAll(file));
    assertTrue(e.getMessage().startsWith(file + ": row group 0, rows from 1: corrupt page ("), e.getMessage());
  }

  @Test
  void truncatedFileIsOneClearError() throws IOException {
    Path file = fixture(tmp, "zstd_v2_delta.parquet");
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length / 2));
    ParquetException e = assertThrows(ParquetException.class, () -> new ParquetStringReader(file, "text"));
    assertTrue(e.getMessage().startsWith(file + ": not a Parquet file"), e.getMessage());
  }
}
