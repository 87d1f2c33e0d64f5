package ai.lmtrain.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

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
    String text = readUtf8(file);
    int[] lineStarts = lineStarts(text);
    CSVFormat format = CSVFormat.RFC4180.builder().setDelimiter(delimiter).setHeader().setSkipHeaderRecord(true)
        .setIgnoreEmptyLines(true).get();
    List<LabelledText> rows = new ArrayList<>();
    try (CSVParser parser = CSVParser.builder().setReader(new StringReader(text)).setFormat(format).get()) {
      Map<String, Integer> header = parser.getHeaderMap();
      if (header == null || header.isEmpty()) {
        throw new IllegalArgumentException(file + ": no header row (expected the column names on line 1)");
      }
      for (String column : new String[] {textColumn, pairColumn, labelColumn}) {
        if (column != null && !header.containsKey(column)) {
          throw new IllegalArgumentException(file + ": no column '" + column + "' (the header names "
              + String.join(", ", header.keySet()) + ")");
        }
      }
      Iterator<CSVRecord> records = parser.iterator();
      while (true) {
        CSVRecord record;
        try {
          if (!records.hasNext()) {
            break;
          }
          record = records.next();
        } catch (UncheckedIOException | IllegalStateException e) {
          throw new IllegalArgumentException(file + ": not valid "
              + (delimiter == '\t' ? "TSV" : "CSV") + ": " + rootMessage(e), e);
        }
        String where = file + ":" + lineOf(lineStarts, firstCharacter(text, record.getCharacterPosition()));
        if (!record.isConsistent()) {
          throw new IllegalArgumentException(where + ": " + record.size() + " fields, but the header names "
              + header.size() + " columns");
        }
        String label = record.get(labelColumn);
        if (label.isBlank()) {
          throw new IllegalArgumentException(where + ": column '" + labelColumn + "' is empty (expected a label)");
        }
        rows.add(new LabelledText(record.get(textColumn), pairColumn == null ? null : record.get(pairColumn),
            List.of(label.strip()), where));
      }
    }
    return rows;
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

  /** The character offset at which each line starts. */
  private static int[] lineStarts(String text) {
    List<Integer> starts = new ArrayList<>();
    starts.add(0);
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) == '\n') {
        starts.add(i + 1);
      }
    }
    return starts.stream().mapToInt(Integer::intValue).toArray();
  }

  /** The position of the first character at or after {@code position} that is not a line break (skipped blank lines). */
  private static long firstCharacter(String text, long position) {
    int i = (int) position;
    while (i < text.length() && (text.charAt(i) == '\n' || text.charAt(i) == '\r')) {
      i++;
    }
    return i;
  }

  /** The 1-based line holding character {@code position}. */
  private static long lineOf(int[] lineStarts, long position) {
    int i = java.util.Arrays.binarySearch(lineStarts, (int) position);
    return (i >= 0 ? i : -i - 2) + 1;
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

  private static String rootMessage(Throwable e) {
    Throwable cause = e;
    while (cause.getCause() != null && cause.getCause() != cause) {
      cause = cause.getCause();
    }
    if (cause instanceof CharacterCodingException) {
      return "not valid UTF-8";
    }
    return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
  }
}
