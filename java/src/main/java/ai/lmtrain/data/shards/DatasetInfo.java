package ai.lmtrain.data.shards;

import ai.lmtrain.io.AtomicFiles;
import ai.lmtrain.io.FileFormatException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code dataset.json}: what {@code prepare-data} wrote — the tokenizer (SHA-256 of its
 * tokenizer.json and vocabulary size), the token width, each shard with its token count, the
 * document counts, the input files with their sizes, and the options. Written last and atomically,
 * so its presence means every shard is complete.
 *
 * @param tokenizerSha256 {@link ai.lmtrain.tokenizers.Tokenizers#sha256} of the tokenizer
 * @param vocabSize the tokenizer's vocabulary size
 * @param tokenBytes 2 (uint16, version 1) or 4 (uint32, version 2)
 * @param documentStart the token that starts every document ({@code <|endoftext|>} or {@code [CLS]})
 * @param documentEnd the token that ends every document ({@code [SEP]}), or null
 * @param shards the shards, train then validation
 * @param trainDocuments documents in the train shards
 * @param validationDocuments documents in the validation shards
 * @param skippedDocuments empty or null texts skipped
 * @param inputs the input files
 * @param options the options that shaped the output (format, text field, split, seed ...)
 */
public record DatasetInfo(String tokenizerSha256, int vocabSize, int tokenBytes, String documentStart,
    String documentEnd, List<Shard> shards, long trainDocuments, long validationDocuments, long skippedDocuments,
    List<Input> inputs, JsonNode options) {

  /** The file name in a prepared folder. */
  public static final String FILE_NAME = "dataset.json";
  /** The value of the "format" key. */
  public static final String FORMAT = "lmtrain-token-shards";

  private static final ObjectMapper JSON = new ObjectMapper();

  /** One shard: file name (in the folder), split ("train" or "validation") and token count. */
  public record Shard(String file, String split, long tokens) {}

  /** One input file: path as given, split it fed, size in bytes. */
  public record Input(String path, String split, long bytes) {}

  /** Copies the lists. */
  public DatasetInfo {
    shards = List.copyOf(shards);
    inputs = List.copyOf(inputs);
  }

  /** Tokens in the shards of {@code split}. */
  public long tokens(String split) {
    return shards.stream().filter(s -> s.split().equals(split)).mapToLong(Shard::tokens).sum();
  }

  /** The JSON text (stable key order, so equal inputs give equal bytes). */
  public String toJson() {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    root.put("format_version", 1);
    ObjectNode shard = root.putObject("shard_format");
    shard.put("magic", ShardFormat.MAGIC).put("version", ShardFormat.versionFor(tokenBytes))
        .put("token_dtype", tokenBytes == 2 ? "uint16" : "uint32").put("header_bytes", ShardFormat.HEADER_BYTES);
    ObjectNode tok = root.putObject("tokenizer");
    tok.put("sha256", tokenizerSha256).put("vocab_size", vocabSize).put("document_start", documentStart);
    if (documentEnd == null) {
      tok.putNull("document_end");
    } else {
      tok.put("document_end", documentEnd);
    }
    root.putObject("documents").put("train", trainDocuments).put("validation", validationDocuments)
        .put("skipped_empty", skippedDocuments);
    root.putObject("tokens").put("train", tokens("train")).put("validation", tokens("validation"));
    ArrayNode s = root.putArray("shards");
    for (Shard sh : shards) {
      s.addObject().put("file", sh.file()).put("split", sh.split()).put("tokens", sh.tokens());
    }
    ArrayNode in = root.putArray("inputs");
    for (Input i : inputs) {
      in.addObject().put("path", i.path()).put("split", i.split()).put("bytes", i.bytes());
    }
    root.set("options", options);
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes {@code dir/dataset.json} atomically. */
  public void write(Path dir) throws IOException {
    AtomicFiles.writeString(dir.resolve(FILE_NAME), toJson());
  }

  /**
   * Reads {@code dir/dataset.json}.
   *
   * @throws FileFormatException if it is not valid JSON or lacks a field
   */
  public static DatasetInfo read(Path dir) throws IOException {
    Path file = dir.resolve(FILE_NAME);
    return parse(file, Files.readAllBytes(file));
  }

  /**
   * Parses the bytes of a dataset.json read from {@code file}.
   *
   * @throws FileFormatException naming {@code file} if they are not valid JSON or lack a field
   */
  public static DatasetInfo parse(Path file, byte[] bytes) throws FileFormatException {
    JsonNode root;
    try {
      root = JSON.readTree(bytes);
    } catch (IOException e) {
      String reason = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
      throw new FileFormatException(file, "not valid JSON (" + reason + ")", e);
    }
    if (root == null || !FORMAT.equals(root.path("format").asText())) {
      throw new FileFormatException(file, "expected \"format\": \"" + FORMAT + "\" (a file written by lmtrain"
          + " prepare-data)");
    }
    try {
      String dtype = text(root, "shard_format", "token_dtype");
      if (!dtype.equals("uint16") && !dtype.equals("uint32")) {
        throw new IllegalArgumentException("shard_format.token_dtype must be uint16 or uint32, not " + dtype);
      }
      JsonNode tok = root.path("tokenizer");
      List<Shard> shards = new ArrayList<>();
      for (JsonNode s : array(root, "shards")) {
        shards.add(new Shard(text(s, "file"), text(s, "split"), number(s, "tokens")));
      }
      List<Input> inputs = new ArrayList<>();
      for (JsonNode i : array(root, "inputs")) {
        inputs.add(new Input(text(i, "path"), text(i, "split"), number(i, "bytes")));
      }
      JsonNode docs = root.path("documents");
      return new DatasetInfo(text(tok, "sha256"), (int) number(tok, "vocab_size"), dtype.equals("uint16") ? 2 : 4,
          text(tok, "document_start"), tok.path("document_end").isTextual() ? tok.get("document_end").asText() : null,
          shards, number(docs, "train"), number(docs, "validation"), number(docs, "skipped_empty"), inputs,
          root.path("options"));
    } catch (IllegalArgumentException e) {
      throw new FileFormatException(file, e.getMessage());
    }
  }

  private static String text(JsonNode node, String... path) {
    JsonNode n = node;
    for (String p : path) {
      n = n.path(p);
    }
    if (!n.isTextual()) {
      throw new IllegalArgumentException("missing or non-string field " + String.join(".", path));
    }
    return n.asText();
  }

  private static long number(JsonNode node, String key) {
    JsonNode n = node.path(key);
    if (!n.canConvertToLong() || n.asLong() < 0) {
      throw new IllegalArgumentException("missing or negative field " + key);
    }
    return n.asLong();
  }

  private static Iterable<JsonNode> array(JsonNode node, String key) {
    JsonNode n = node.path(key);
    if (!n.isArray()) {
      throw new IllegalArgumentException("missing array " + key);
    }
    return n;
  }
}
