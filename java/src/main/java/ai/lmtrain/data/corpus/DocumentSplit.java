package ai.lmtrain.data.corpus;

import java.util.Locale;

/** How a text file is cut into documents. */
public enum DocumentSplit {
  /** Every non-blank line is a document (its newline is not part of it). */
  LINES,
  /** Blocks of lines separated by blank lines are documents (lines joined by {@code \n}). */
  BLANK_LINES,
  /** Each file is one document (lines joined by {@code \n}, a final newline kept). */
  FILES;

  /** Parses "lines", "blank-lines" or "files". */
  public static DocumentSplit parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--documents must be lines, blank-lines or files (got '" + s + "')");
    }
  }
}
