package ai.lmtrain.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads labelled text for sequence classification from a file, by its extension:
 * <ul>
 *   <li>{@code .csv}: RFC 4180 comma-separated values with a header row naming the columns
 *       (quoted fields may hold commas, quotes written twice, and line breaks);</li>
 *   <li>{@code .tsv}: the same with tabs;</li>
 *   <li>{@code .jsonl} / {@code .json}: one JSON object per line; a label may be a string, a number,
 *       or an array of them (several classes of a multi-label example, or several regression values).</li>
 * </ul>
 * Files are strict UTF-8 (a byte-order mark is skipped). Every problem is one
 * {@link IllegalArgumentException} naming the file, the line and the column.
 */
public final class LabelledTextFile {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final CsvMapper CSV = CsvMapper.builder().enable(CsvParser.Feature.SKIP_EMPTY_LINES).build();

  private LabelledTextFile() {}

  /**
   * The examples of {@code file}.
   *
   * @param textColumn the column (or JSON key) of the text
   * @param pairColumn the column of the second text of a pair, or null
   * @param labelColumn the column of the label
   */
  public static List<LabelledText> read(Path file, String textColumn, String pairColumn, String labelColumn)
      throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString(), null, "labelled text file not found");
    }
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    List<LabelledText> rows;
    if (name.endsWith(".csv") || name.endsWith(".tsv")) {
      rows = readDelimited(file, name.endsWith(".tsv") ? '\t' : ',', textColumn, pairColumn, labelColumn);
    } else if (name.endsWith(".jsonl") || name.endsWith(".json")) {
      rows = readJsonLines(file, textColumn, pairColumn, labelColumn);
    } else {
      throw new IllegalArgumentException(file + ": unknown format (expected a .csv, .tsv or .jsonl file)");
    }
    if (rows.isEmpty()) {
      throw new IllegalArgumentException(file + ": no examples (the file has no data rows)");
    }
    return rows;
  }

  private static List<LabelledText> readDelimited(Path file, char delimiter, String textColumn, String pairColumn,
      String labelColumn) throws IOException {
    String kind = delimiter == '\t' ? "TSV" : "CSV";
    CsvSchema schema = CsvSchema.emptySchema().withColumnSeparator(delimiter).withQuoteChar('"');
    List<LabelledText> rows = new ArrayList<>();
    try (CsvParser parser = CSV.getFactory().createParser(readUtf8(file))) {
      parser.setSchema(schema);
      List<String> header = null;
      int text = -1;
      int pair = -1;
      int label = -1;
      while (true) {
        long line;
        List<String> fields = new ArrayList<>();
        try {
          if (parser.nextToken() == null) { // each record is one array of its fields
            break;
          }
          line = -1;
          for (JsonToken t = parser.nextToken(); t != JsonToken.END_ARRAY; t = parser.nextToken()) {
            line = line < 0 ? parser.currentTokenLocation().getLineNr() : line; // where the record's first field is
            fields.add(parser.getText());
          }
        } catch (JsonProcessingException e) {
          throw new IllegalArgumentException(file + ":" + e.getLocation().getLineNr() + ": not valid " + kind + ": "
              + e.getOriginalMessage(), e);
        }
        if (header == null) {
          header = fields;
          text = column(file, header, textColumn);
          pair = pairColumn == null ? -1 : column(file, header, pairColumn);
          label = column(file, header, labelColumn);
          continue;
        }
        String where = file + ":" + line;
        if (fields.size() != header.size()) {
          throw new IllegalArgumentException(where + ": " + fields.size() + " fields, but the header names "
              + header.size() + " columns");
        }
        String value = fields.get(label);
        if (value.isBlank()) {
          throw new IllegalArgumentException(where + ": column '" + labelColumn + "' is empty (expected a label)");
        }
        rows.add(new LabelledText(fields.get(text), pair < 0 ? null : fields.get(pair), List.of(value.strip()), where));
      }
      if (header == null) {
        throw new IllegalArgumentException(file + ": no header row (expected the column names on line 1)");
      }
    }
    return rows;
  }

  private static int column(Path file, List<String> header, String name) {
    int i = header.indexOf(name);
    if (i < 0) {
      throw new IllegalArgumentException(file + ": no column '" + name + "' (the header names "
          + String.join(", ", header) + ")");
    }
    return i;
  }

  /** The file as strict UTF-8, without a leading byte-order mark. */
  private static String readUtf8(Path file) throws IOException {
    try {
      String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file)))
          .toString();
      return text.startsWith("\uFEFF") ? text.substring(1) : text;
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException(file + ": not valid UTF-8", e);
    }
  }

  private static List<LabelledText> readJsonLines(Path file, String textColumn, String pairColumn, String labelColumn)
      throws IOException {
    List<LabelledText> rows = new ArrayList<>();
    List<String> lines = readUtf8(file).lines().toList();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank()) {
        continue;
      }
      String where = file + ":" + (i + 1);
      JsonNode o;
      try {
        o = JSON.readTree(line);
      } catch (JsonProcessingException e) {
        throw new IllegalArgumentException(where + ": not valid JSON: " + e.getOriginalMessage(), e);
      }
      if (!o.isObject()) {
        throw new IllegalArgumentException(where + ": expected a JSON object per line");
      }
      rows.add(new LabelledText(text(o, textColumn, where), pairColumn == null ? null : text(o, pairColumn, where),
          labels(o, labelColumn, where), where));
    }
    return rows;
  }

  private static String text(JsonNode o, String key, String where) {
    JsonNode v = o.get(key);
    if (v == null) {
      throw new IllegalArgumentException(where + ": no key '" + key + "' (the object has " + fieldNames(o) + ")");
    }
    if (!v.isTextual()) {
      throw new IllegalArgumentException(where + ": '" + key + "' must be a string, got " + v);
    }
    return v.textValue();
  }

  private static List<String> labels(JsonNode o, String key, String where) {
    JsonNode v = o.get(key);
    if (v == null) {
      throw new IllegalArgumentException(where + ": no key '" + key + "' (the object has " + fieldNames(o) + ")");
    }
    List<String> out = new ArrayList<>();
    for (JsonNode item : v.isArray() ? v : List.of(v)) {
      if (!item.isTextual() && !item.isNumber() && !item.isBoolean()) {
        throw new IllegalArgumentException(where + ": '" + key + "' must be a string, a number or an array of them,"
            + " got " + v);
      }
      out.add(item.asText());
    }
    if (!v.isArray() && out.get(0).isBlank()) {
      throw new IllegalArgumentException(where + ": '" + key + "' is empty (expected a label)");
    }
    return out;
  }

  private static String fieldNames(JsonNode o) {
    List<String> names = new ArrayList<>();
    o.fieldNames().forEachRemaining(names::add);
    return names.isEmpty() ? "no keys" : "keys " + String.join(", ", names);
  }
}
