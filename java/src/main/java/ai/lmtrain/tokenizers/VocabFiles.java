package ai.lmtrain.tokenizers;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The legacy vocabulary formats: BERT's {@code vocab.txt} (one token per line, id = line number
 * - 1) and GPT-2's {@code vocab.json} (token -&gt; id) plus {@code merges.txt} ({@code #version}
 * header, then one {@code left right} pair per line, in rank order).
 */
final class VocabFiles {

  /** Strict reading: a duplicate key (token) is an error, not "the last one wins". */
  static final ObjectMapper JSON = ai.lmtrain.io.StrictJson.MAPPER;

  private VocabFiles() {}

  /** Parses vocab.txt lines read from {@code name}. */
  static Map<String, Integer> readVocabTxt(InputStream in, String name) {
    Map<String, Integer> vocab = new LinkedHashMap<>();
    Utf8Lines.forEach(in, name, (line, n) -> {
      if (vocab.putIfAbsent(line, n - 1) != null) {
        throw new TokenizerException(name + ":" + n + ": duplicate token '" + line + "' (first on line "
            + (vocab.get(line) + 1) + "); expected one distinct token per line");
      }
    });
    if (vocab.isEmpty()) {
      throw new TokenizerException(name + ": empty vocabulary, expected one token per line");
    }
    return vocab;
  }

  /** Renders vocab.txt for tokens in id order. */
  static String writeVocabTxt(String[] tokens) {
    StringBuilder sb = new StringBuilder();
    for (String t : tokens) {
      sb.append(t).append('\n');
    }
    return sb.toString();
  }

  /** Parses a vocab.json object (token -&gt; id). */
  static Map<String, Integer> readVocabJson(InputStream in, String name) {
    JsonNode root;
    try {
      root = JSON.readTree(in);
    } catch (JsonProcessingException e) {
      throw new TokenizerException(name + ": not valid JSON (" + e.getOriginalMessage() + ")");
    } catch (java.io.IOException e) {
      throw new TokenizerException(name + ": cannot read (" + e.getMessage() + ")", e);
    }
    return vocabObject(root, name, "the file");
  }

  /** Reads a JSON object of token -&gt; non-negative integer id. */
  static Map<String, Integer> vocabObject(JsonNode node, String name, String what) {
    if (node == null || !node.isObject()) {
      throw new TokenizerException(name + ": expected " + what + " to be a JSON object of token -> id");
    }
    Map<String, Integer> vocab = new LinkedHashMap<>();
    node.fields().forEachRemaining(e -> {
      if (!e.getValue().canConvertToInt() || !e.getValue().isIntegralNumber()) {
        throw new TokenizerException(name + ": token " + e.getKey() + " has id " + e.getValue() + ", expected an integer");
      }
      vocab.put(e.getKey(), e.getValue().intValue());
    });
    return vocab;
  }

  /** Renders vocab.json for tokens in id order. */
  static String writeVocabJson(String[] tokens) {
    ObjectNode node = JSON.createObjectNode();
    for (int i = 0; i < tokens.length; i++) {
      node.put(tokens[i], i);
    }
    return node.toString();
  }

  /** Parses merges.txt: an optional {@code #version} line, then {@code left right} lines. */
  static List<String[]> readMerges(InputStream in, String name) {
    List<String[]> merges = new ArrayList<>();
    Utf8Lines.forEach(in, name, (line, n) -> {
      if ((n == 1 && line.startsWith("#version")) || line.isEmpty()) {
        return;
      }
      merges.add(mergePair(line, name + ":" + n));
    });
    return merges;
  }

  /** Splits {@code "left right"} into a pair. */
  static String[] mergePair(String line, String where) {
    String[] parts = line.split(" ", -1);
    if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
      throw new TokenizerException(where + ": expected a merge 'left right' (two tokens separated by one space), got '" + line + "'");
    }
    return parts;
  }

  /** Renders merges.txt with the {@code #version: 0.2} header. */
  static String writeMerges(List<String[]> merges) {
    StringBuilder sb = new StringBuilder("#version: 0.2\n");
    for (String[] m : merges) {
      sb.append(m[0]).append(' ').append(m[1]).append('\n');
    }
    return sb.toString();
  }
}
