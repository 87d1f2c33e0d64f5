package ai.lmtrain.data;

import ai.lmtrain.tokenizers.TokenizerException;
import ai.lmtrain.tokenizers.Utf8Lines;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads training text (strict UTF-8) as examples: one per non-blank line, or one per whole file
 * (a document). Also reads the bundled corpora (the toy corpus used by the built-in lab, and
 * tinyshakespeare).
 */
public final class TextSource {

  private TextSource() {}

  /** Every non-blank line of the files, in order. */
  public static List<String> lines(List<Path> files) {
    List<String> out = new ArrayList<>();
    for (Path f : files) {
      Utf8Lines.forEach(f, (line, n) -> {
        if (!line.isBlank()) {
          out.add(line);
        }
      });
    }
    return requireText(out, files.toString());
  }

  /** Each file as one document (line endings normalized to {@code \n}). */
  public static List<String> documents(List<Path> files) {
    List<String> out = new ArrayList<>();
    for (Path f : files) {
      String text = Utf8Lines.readString(f);
      if (!text.isBlank()) {
        out.add(text);
      }
    }
    return requireText(out, files.toString());
  }

  /**
   * Documents in the BERT pre-training input format (create_pretraining_data.py): one sentence per
   * line, blank lines between documents, and each file's end ending a document. Each document is
   * returned as its sentences joined by {@code \n}.
   */
  public static List<String> sentenceDocuments(List<Path> files) {
    List<String> out = new ArrayList<>();
    for (Path f : files) {
      StringBuilder document = new StringBuilder();
      Utf8Lines.forEach(f, (line, n) -> {
        if (line.isBlank()) {
          endDocument(document, out);
        } else {
          document.append(document.isEmpty() ? "" : "\n").append(line.strip());
        }
      });
      endDocument(document, out);
    }
    return requireText(out, files.toString());
  }

  private static void endDocument(StringBuilder document, List<String> out) {
    if (!document.isEmpty()) {
      out.add(document.toString());
      document.setLength(0);
    }
  }

  /** The non-blank lines of a bundled corpus: {@code "toy_corpus.txt"} or {@code "tinyshakespeare.txt"}. */
  public static List<String> bundledLines(String name) {
    return bundled(name).stream().filter(line -> !line.isBlank()).toList();
  }

  /** A bundled corpus verbatim: every line (blank ones too) followed by {@code \n}. */
  public static String bundledText(String name) {
    StringBuilder sb = new StringBuilder();
    bundled(name).forEach(line -> sb.append(line).append('\n'));
    return sb.toString();
  }

  private static List<String> bundled(String name) {
    List<String> out = new ArrayList<>();
    try (InputStream in = TextSource.class.getResourceAsStream("/ai/lmtrain/data/" + name)) {
      if (in == null) {
        throw new TokenizerException("no bundled corpus named " + name + "; available: toy_corpus.txt, tinyshakespeare.txt");
      }
      Utf8Lines.forEach(in, "bundled " + name, (line, n) -> out.add(line));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  private static List<String> requireText(List<String> out, String what) {
    if (out.isEmpty()) {
      throw new TokenizerException(what + ": no text found, expected UTF-8 text");
    }
    return out;
  }
}
