package ai.lmtrain.tokenizers;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes Hugging Face {@code tokenizer.json} (the {@code tokenizers} library's schema)
 * for the two supported pipelines: WordPiece with BertNormalizer / BertPreTokenizer /
 * TemplateProcessing (or BertProcessing) / WordPiece decoder, and byte-level BPE with ByteLevel
 * pre-tokenizer, post-processor and decoder. Merges are accepted as {@code "a b"} strings or
 * {@code ["a","b"]} pairs and written as strings (readable by every tokenizers version).
 */
final class TokenizerJson {

  private TokenizerJson() {}

  /** Parses tokenizer.json text; {@code name} is used in error messages. */
  static Tokenizer parse(String json, String name) {
    JsonNode root;
    try {
      root = VocabFiles.JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new TokenizerException(name + ": not valid JSON (" + e.getOriginalMessage() + ")");
    }
    if (root == null || !root.isObject()) {
      throw new TokenizerException(name + ": expected a tokenizer.json object");
    }
    JsonNode model = root.get("model");
    if (model == null || !model.isObject()) {
      throw new TokenizerException(name + ": missing the \"model\" object");
    }
    String type = model.path("type").asText("");
    List<AddedToken> added = addedTokens(root.get("added_tokens"), name);
    Map<String, Integer> vocab = VocabFiles.vocabObject(model.get("vocab"), name, "model.vocab");
    switch (type) {
      case "WordPiece":
        return wordPiece(root, model, vocab, added, name);
      case "BPE":
        return bpe(root, model, vocab, added, name);
      default:
        throw new TokenizerException(name + ": model.type is '" + type + "', expected WordPiece or BPE");
    }
  }

  private static List<AddedToken> addedTokens(JsonNode node, String name) {
    List<AddedToken> out = new ArrayList<>();
    if (node == null || node.isNull()) {
      return out;
    }
    if (!node.isArray()) {
      throw new TokenizerException(name + ": added_tokens must be an array");
    }
    for (JsonNode t : node) {
      if (!t.path("id").isInt() || !t.path("content").isTextual()) {
        throw new TokenizerException(name + ": each added token needs an integer id and a string content, got " + t);
      }
      out.add(new AddedToken(t.get("id").intValue(), t.get("content").textValue(), t.path("special").asBoolean(false)));
    }
    return out;
  }

  private static WordPieceTokenizer wordPiece(JsonNode root, JsonNode model, Map<String, Integer> vocab,
      List<AddedToken> added, String name) {
    BertNormalizer normalizer = null;
    JsonNode n = root.get("normalizer");
    if (n != null && !n.isNull()) {
      requireType(n, "BertNormalizer", "normalizer", name);
      JsonNode strip = n.get("strip_accents");
      normalizer = new BertNormalizer(n.path("clean_text").asBoolean(true), n.path("handle_chinese_chars").asBoolean(true),
          strip == null || strip.isNull() ? null : strip.asBoolean(), n.path("lowercase").asBoolean(true));
    }
    JsonNode pre = root.get("pre_tokenizer");
    if (pre != null && !pre.isNull()) {
      requireType(pre, "BertPreTokenizer", "pre_tokenizer", name);
    }
    String[] clsSep = clsSep(root.get("post_processor"), name);
    return new WordPieceTokenizer(vocab, added, normalizer, model.path("unk_token").asText("[UNK]"),
        model.path("continuing_subword_prefix").asText("##"),
        model.path("max_input_chars_per_word").asInt(WordPieceTokenizer.DEFAULT_MAX_INPUT_CHARS_PER_WORD),
        clsSep[0], clsSep[1], name);
  }

  /** {cls, sep} from a TemplateProcessing or BertProcessing post-processor; nulls for none. */
  private static String[] clsSep(JsonNode pp, String name) {
    if (pp == null || pp.isNull()) {
      return new String[2];
    }
    String type = pp.path("type").asText("");
    if (type.equals("BertProcessing")) {
      return new String[] {pp.path("cls").path(0).asText(null), pp.path("sep").path(0).asText(null)};
    }
    if (!type.equals("TemplateProcessing")) {
      throw new TokenizerException(name + ": post_processor type '" + type + "' is not supported, expected TemplateProcessing or BertProcessing");
    }
    JsonNode single = pp.path("single");
    String first = single.path(0).path("SpecialToken").path("id").asText(null);
    String last = single.path(single.size() - 1).path("SpecialToken").path("id").asText(null);
    if (single.size() != 3 || first == null || last == null || !single.path(1).has("Sequence")) {
      throw new TokenizerException(name + ": post_processor template must be '[CLS] $A [SEP]', got " + single);
    }
    return new String[] {first, last};
  }

  private static ByteLevelBpeTokenizer bpe(JsonNode root, JsonNode model, Map<String, Integer> vocab,
      List<AddedToken> added, String name) {
    JsonNode n = root.get("normalizer");
    if (n != null && !n.isNull()) {
      throw new TokenizerException(name + ": a BPE normalizer (" + n.path("type").asText() + ") is not supported, expected null");
    }
    JsonNode pre = root.get("pre_tokenizer");
    if (pre == null || pre.isNull()) {
      throw new TokenizerException(name + ": BPE needs the ByteLevel pre_tokenizer, got none");
    }
    requireType(pre, "ByteLevel", "pre_tokenizer", name);
    if (pre.path("add_prefix_space").asBoolean(false) || !pre.path("use_regex").asBoolean(true)) {
      throw new TokenizerException(name + ": only ByteLevel with add_prefix_space=false and use_regex=true is supported");
    }
    for (String affix : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
      if (!model.path(affix).asText("").isEmpty()) {
        throw new TokenizerException(name + ": model." + affix + " is not supported for byte-level BPE");
      }
    }
    JsonNode mergesNode = model.get("merges");
    if (mergesNode == null || !mergesNode.isArray()) {
      throw new TokenizerException(name + ": model.merges must be an array");
    }
    List<String[]> merges = new ArrayList<>(mergesNode.size());
    int k = 0;
    for (JsonNode m : mergesNode) {
      k++;
      if (m.isTextual()) {
        merges.add(VocabFiles.mergePair(m.textValue(), name + ": merge " + k));
      } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
        merges.add(new String[] {m.get(0).textValue(), m.get(1).textValue()});
      } else {
        throw new TokenizerException(name + ": merge " + k + " is " + m + ", expected \"a b\" or [\"a\",\"b\"]");
      }
    }
    return ByteLevelBpeTokenizer.of(vocab, merges, added, name);
  }

  private static void requireType(JsonNode node, String expected, String what, String name) {
    String type = node.path("type").asText("");
    if (!type.equals(expected)) {
      throw new TokenizerException(name + ": " + what + " type '" + type + "' is not supported, expected " + expected);
    }
  }

  /** Renders tokenizer.json for a tokenizer. */
  static String write(Tokenizer tok) {
    ObjectNode root = VocabFiles.JSON.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    for (AddedToken t : tok.addedTokens()) {
      added.addObject().put("id", t.id()).put("content", t.content()).put("single_word", false)
          .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", t.special());
    }
    if (tok instanceof WordPieceTokenizer wp) {
      writeWordPiece(root, wp);
    } else if (tok instanceof ByteLevelBpeTokenizer bpe) {
      writeBpe(root, bpe);
    } else {
      throw new IllegalArgumentException("unsupported tokenizer " + tok.getClass().getName());
    }
    try {
      return VocabFiles.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void writeWordPiece(ObjectNode root, WordPieceTokenizer wp) {
    BertNormalizer bn = wp.normalizer();
    if (bn == null) {
      root.putNull("normalizer");
    } else {
      ObjectNode n = root.putObject("normalizer").put("type", "BertNormalizer").put("clean_text", bn.cleanText())
          .put("handle_chinese_chars", bn.handleChineseChars());
      if (bn.stripAccents() == null) {
        n.putNull("strip_accents");
      } else {
        n.put("strip_accents", bn.stripAccents());
      }
      n.put("lowercase", bn.lowercase());
    }
    root.putObject("pre_tokenizer").put("type", "BertPreTokenizer");
    PostProcessor pp = wp.postProcessor();
    if (pp.isNone()) {
      root.putNull("post_processor");
    } else {
      ObjectNode t = root.putObject("post_processor").put("type", "TemplateProcessing");
      ArrayNode single = t.putArray("single");
      special(single, pp.cls(), 0);
      sequence(single, "A", 0);
      special(single, pp.sep(), 0);
      ArrayNode pair = t.putArray("pair");
      special(pair, pp.cls(), 0);
      sequence(pair, "A", 0);
      special(pair, pp.sep(), 0);
      sequence(pair, "B", 1);
      special(pair, pp.sep(), 1);
      ObjectNode specials = t.putObject("special_tokens");
      specialEntry(specials, pp.cls(), pp.clsId());
      specialEntry(specials, pp.sep(), pp.sepId());
    }
    root.putObject("decoder").put("type", "WordPiece").put("prefix", wp.continuationPrefix()).put("cleanup", true);
    ObjectNode model = root.putObject("model").put("type", "WordPiece").put("unk_token", wp.specialTokens().unk())
        .put("continuing_subword_prefix", wp.continuationPrefix())
        .put("max_input_chars_per_word", wp.maxInputCharsPerWord());
    putVocab(model, wp.tokens());
  }

  private static void specialEntry(ObjectNode specials, String token, int id) {
    ObjectNode e = specials.putObject(token).put("id", token);
    e.putArray("ids").add(id);
    e.putArray("tokens").add(token);
  }

  private static void special(ArrayNode template, String token, int typeId) {
    template.addObject().putObject("SpecialToken").put("id", token).put("type_id", typeId);
  }

  private static void sequence(ArrayNode template, String id, int typeId) {
    template.addObject().putObject("Sequence").put("id", id).put("type_id", typeId);
  }

  private static void writeBpe(ObjectNode root, ByteLevelBpeTokenizer bpe) {
    root.putNull("normalizer");
    root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false)
        .put("trim_offsets", true).put("use_regex", true);
    root.putObject("post_processor").put("type", "ByteLevel").put("add_prefix_space", true)
        .put("trim_offsets", false).put("use_regex", true);
    root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true)
        .put("trim_offsets", true).put("use_regex", true);
    ObjectNode model = root.putObject("model").put("type", "BPE");
    model.putNull("dropout");
    model.putNull("unk_token");
    model.putNull("continuing_subword_prefix");
    model.putNull("end_of_word_suffix");
    model.put("fuse_unk", false).put("byte_fallback", false).put("ignore_merges", false);
    putVocab(model, bpe.tokens());
    ArrayNode merges = model.putArray("merges");
    for (String[] m : bpe.merges()) {
      merges.add(m[0] + " " + m[1]);
    }
  }

  private static void putVocab(ObjectNode model, String[] tokens) {
    ObjectNode vocab = model.putObject("vocab");
    for (int i = 0; i < tokens.length; i++) {
      vocab.put(tokens[i], i);
    }
  }

  /** Renders tokenizer_config.json, telling transformers the tokenizer class and token roles. */
  static String writeConfig(Tokenizer tok) {
    ObjectNode c = VocabFiles.JSON.createObjectNode();
    SpecialTokens s = tok.specialTokens();
    if (tok instanceof WordPieceTokenizer wp) {
      c.put("tokenizer_class", "BertTokenizerFast");
      c.put("do_lower_case", wp.normalizer() != null && wp.normalizer().lowercase());
    } else {
      c.put("tokenizer_class", "GPT2TokenizerFast");
      c.put("add_prefix_space", false);
    }
    String[][] roles = {{"unk_token", s.unk()}, {"pad_token", s.pad()}, {"cls_token", s.cls()},
        {"sep_token", s.sep()}, {"mask_token", s.mask()}, {"bos_token", s.bos()}, {"eos_token", s.eos()}};
    for (String[] r : roles) {
      if (r[1] != null) {
        c.put(r[0], r[1]);
      }
    }
    return c.toPrettyString();
  }
}
