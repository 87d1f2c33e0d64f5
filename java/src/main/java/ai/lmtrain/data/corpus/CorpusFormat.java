package ai.lmtrain.data.corpus;

import java.nio.file.Path;
import java.util.Locale;

/** How a corpus file holds its documents. */
public enum CorpusFormat {
  /** UTF-8 text; documents are lines, blank-line separated blocks or whole files ({@link DocumentSplit}). */
  TEXT,
  /** One JSON object per line; the document is one string field. */
  JSONL,
  /** A Parquet file; the documents are the values of one string column. */
  PARQUET;

  /** Parses "text", "jsonl" or "parquet". */
  public static CorpusFormat parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--format must be text, jsonl or parquet (got '" + s + "')");
    }
  }

  /** The format a file name suggests (after a .gz or .zst suffix): .jsonl/.json/.ndjson, .parquet, else text. */
  public static CorpusFormat ofFile(Path file) {
    String name = Compression.stripSuffix(file.getFileName().toString().toLowerCase(Locale.ROOT));
    if (name.endsWith(".jsonl") || name.endsWith(".json") || name.endsWith(".ndjson")) {
      return JSONL;
    }
    return name.endsWith(".parquet") ? PARQUET : TEXT;
  }
}
