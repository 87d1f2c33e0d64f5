import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.column.ParquetProperties.WriterVersion;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;

/**
 * Writes lmtrain's Parquet reader fixtures with Apache parquet-mr: the same rows (rows.jsonl: one
 * JSON string per row, null for a null value) in files that differ in codec, page format, value
 * encoding and nullability, each with several row groups and pages. Usage: MakeParquetFixtures OUT_DIR
 */
public final class MakeParquetFixtures {
  private static final int ROWS = 1500;

  public static void main(String[] args) throws IOException {
    Path out = Path.of(args[0]);
    Files.createDirectories(out);
    List<String> rows = rows();
    StringBuilder jsonl = new StringBuilder();
    for (String r : rows) {
      jsonl.append(r == null ? "null" : "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(r)) + "\"")
          .append('\n');
    }
    Files.writeString(out.resolve("rows.jsonl"), jsonl.toString(), StandardCharsets.UTF_8);
    // Optional column: nulls; dictionary pages (v1: PLAIN_DICTIONARY, falling back to PLAIN when full).
    write(out.resolve("snappy_v1_dictionary.parquet"), rows, true, CompressionCodecName.SNAPPY, WriterVersion.PARQUET_1_0,
        true);
    // Data pages v2 without a dictionary: DELTA_BYTE_ARRAY values.
    write(out.resolve("zstd_v2_delta.parquet"), rows, true, CompressionCodecName.ZSTD, WriterVersion.PARQUET_2_0, false);
    // Required column (no definition levels), PLAIN values.
    write(out.resolve("gzip_v1_plain.parquet"), rows, false, CompressionCodecName.GZIP, WriterVersion.PARQUET_1_0, false);
    // Data pages v2 with RLE_DICTIONARY, uncompressed.
    write(out.resolve("uncompressed_v2_dictionary.parquet"), rows, true, CompressionCodecName.UNCOMPRESSED,
        WriterVersion.PARQUET_2_0, true);
  }

  /** Repeated values (dictionary hits), unique ones, Unicode, newlines, empty strings and (optional files) nulls. */
  private static List<String> rows() {
    List<String> rows = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      if (i % 7 == 3) {
        rows.add(null);
      } else if (i % 3 == 0) {
        rows.add("a repeated line number " + (i % 4));
      } else if (i % 101 == 5) {
        rows.add("");
      } else {
        rows.add("row " + i + ": Ünïcödé ✓ 😀 ".repeat(1 + i % 3) + "\nsecond line of " + i);
      }
    }
    return rows;
  }

  private static void write(Path file, List<String> rows, boolean optional, CompressionCodecName codec,
      WriterVersion version, boolean dictionary) throws IOException {
    Files.deleteIfExists(file);
    MessageType schema = MessageTypeParser.parseMessageType("message doc { required int64 id; "
        + (optional ? "optional" : "required") + " binary text (UTF8); optional binary meta (UTF8); }");
    SimpleGroupFactory groups = new SimpleGroupFactory(schema);
    try (ParquetWriter<Group> w = ExampleParquetWriter.builder(new LocalOutputFile(file)).withType(schema)
        .withConf(new Configuration()).withCompressionCodec(codec).withWriterVersion(version)
        .withDictionaryEncoding(dictionary).withDictionaryPageSize(2048).withPageSize(4096)
        .withRowGroupSize(8 * 1024L).withPageRowCountLimit(500).build()) {
      for (int i = 0; i < rows.size(); i++) {
        String text = rows.get(i);
        if (text == null && !optional) {
          text = "";
        }
        Group g = groups.newGroup().append("id", (long) i);
        if (text != null) {
          g.append("text", text);
        }
        g.append("meta", "m" + (i % 13));
        w.write(g);
      }
    }
  }
}
