package ai.lmtrain.models;

import ai.lmtrain.io.AtomicFiles;
import ai.lmtrain.io.FileFormatException;
import ai.lmtrain.io.StrictJson;
import ai.lmtrain.tensor.GeluKind;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads any supported config.json, dispatching on its {@code model_type}; JSON helpers of the configs. */
public final class ModelConfigs {
  /** The file name of a model config inside a checkpoint folder. */
  public static final String CONFIG_FILE = "config.json";

  /** The transformers release whose config.json layout this project writes. */
  public static final String TRANSFORMERS_VERSION = "4.46.3";

  private static final Logger LOG = LoggerFactory.getLogger(ModelConfigs.class);

  /** The config files whose GPT-2 ids outside the vocabulary were warned about (once per file and process). */
  private static final Set<Path> WARNED = ConcurrentHashMap.newKeySet();

  /** Strict reading (no duplicate keys, no "32" for 32, no 1.0 for 1; see {@link StrictJson}). */
  private static final ObjectMapper MAPPER = StrictJson.MAPPER;

  /** transformers' layout: json.dumps(indent=2, sort_keys=True), "key": value, one item per line. */
  private static final ObjectWriter HF_STYLE = MAPPER.writer(
      new DefaultPrettyPrinter(Separators.createDefaultInstance()
              .withObjectFieldValueSpacing(Separators.Spacing.AFTER))
          .withObjectIndenter(new DefaultIndenter("  ", "\n"))
          .withArrayIndenter(new DefaultIndenter("  ", "\n")));

  private ModelConfigs() {}

  /**
   * Reads the config.json of a checkpoint folder (or the file itself) and returns a {@link
   * BertConfig} for model_type "bert" or a {@link Gpt2Config} for "gpt2".
   *
   * @throws FileFormatException naming the file, when model_type is missing or unsupported, the
   *     JSON is malformed or a value is invalid
   * @throws NoSuchFileException naming the missing config.json
   */
  public static ModelConfig read(Path dirOrFile) throws IOException {
    Path file = Files.isDirectory(dirOrFile) ? dirOrFile.resolve(CONFIG_FILE) : dirOrFile;
    JsonNode modelType = readObject(file).get("model_type");
    if (modelType == null || !modelType.isTextual()) {
      throw new FileFormatException(file, "missing string 'model_type' (expected \""
          + BertConfig.MODEL_TYPE + "\" or \"" + Gpt2Config.MODEL_TYPE + "\")");
    }
    return switch (modelType.textValue()) {
      case BertConfig.MODEL_TYPE -> BertConfig.fromJson(file);
      case Gpt2Config.MODEL_TYPE -> Gpt2Config.fromJson(file);
      default -> throw new FileFormatException(file, "unsupported model_type '" + modelType.textValue()
          + "' (expected \"" + BertConfig.MODEL_TYPE + "\" or \"" + Gpt2Config.MODEL_TYPE + "\")");
    };
  }

  /**
   * The sequence-classification head a config.json describes (id2label / num_labels, problem_type,
   * the head's settings), or null when it names no labels.
   *
   * @throws FileFormatException naming the file when those keys are invalid
   */
  public static SequenceClassification readClassification(Path file) throws IOException {
    ObjectNode config = readObject(file);
    return SequenceClassification.read(config, Gpt2Config.MODEL_TYPE.equals(config.path("model_type").asText()), file);
  }

  /** The first entry of a config.json's {@code architectures}, or "" when it has none. */
  public static String architecture(Path file) throws IOException {
    JsonNode architectures = readObject(file).get("architectures");
    return architectures != null && architectures.isArray() && !architectures.isEmpty()
        ? architectures.get(0).asText() : "";
  }

  /** The config.json text of {@code config}; see {@link ModelConfig#toJson()}. */
  static String toJson(ModelConfig config) {
    return toJson(config, config.architecture(), node -> { });
  }

  /**
   * The config.json text of {@code config} for a model of class {@code architecture}, with the keys
   * that {@code extra} adds (a head's keys, such as id2label); layout as {@link ModelConfig#toJson()}.
   */
  static String toJson(ModelConfig config, String architecture, java.util.function.Consumer<ObjectNode> extra) {
    ObjectNode node = MAPPER.valueToTree(config);
    node.put("model_type", config.modelType());
    node.set("architectures", MAPPER.valueToTree(List.of(architecture)));
    extra.accept(node);
    node.put("torch_dtype", "float32");
    node.put("transformers_version", TRANSFORMERS_VERSION);
    Map<String, JsonNode> sorted = new TreeMap<>();
    node.fields().forEachRemaining(field -> sorted.put(field.getKey(), field.getValue()));
    try {
      return HF_STYLE.writeValueAsString(sorted) + "\n";
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException("serializing a config cannot fail", e);
    }
  }

  /** Writes {@link #toJson} to {@code file} atomically. */
  static void writeJson(ModelConfig config, Path file) throws IOException {
    AtomicFiles.writeString(file, toJson(config));
  }

  /**
   * Reads {@code file} as a {@code type} config: keys present in the file override those of
   * {@code defaults}; a model_type, when present, must match.
   */
  static <C extends ModelConfig> C read(Path file, C defaults) throws IOException {
    return merge(defaults, readObject(file), file);
  }

  /**
   * {@code defaults} with the config keys of {@code keys} applied (other keys must have been removed
   * by the caller; unknown ones are ignored as transformers does); a model_type, when present,
   * must match. Errors name {@code source}.
   */
  @SuppressWarnings("unchecked")
  public static <C extends ModelConfig> C merge(C defaults, ObjectNode keys, Path source) throws FileFormatException {
    JsonNode modelType = keys.get("model_type");
    if (modelType != null && !defaults.modelType().equals(modelType.asText())) {
      throw new FileFormatException(source, "model_type is '" + modelType.asText() + "' but a '"
          + defaults.modelType() + "' config was expected");
    }
    ObjectNode merged = MAPPER.valueToTree(defaults);
    merged.setAll(keys);
    try {
      C config = (C) MAPPER.treeToValue(merged, defaults.getClass());
      if (config instanceof Gpt2Config gpt2 && gpt2.idsOutsideVocabulary() != null
          && WARNED.add(source.toAbsolutePath().normalize())) {
        LOG.warn("{}: {} outside the vocabulary [0, {}), kept as transformers keeps them (its GPT2Config defaults are"
            + " 50256 for any vocab_size); generation has no end-of-text id to stop at and runs to --max-new-tokens,"
            + " as transformers' generate does", source, gpt2.idsOutsideVocabulary(), gpt2.vocabSize());
      }
      return config;
    } catch (JsonProcessingException e) {
      Throwable cause = e;
      // A value the record constructor rejected arrives wrapped; its message names the key.
      while (cause.getCause() != null && cause.getClass() != IllegalArgumentException.class) {
        cause = cause.getCause();
      }
      String problem = cause.getClass() == IllegalArgumentException.class ? cause.getMessage()
          : "invalid value for '" + jsonPath(e) + "': " + e.getOriginalMessage();
      throw new FileFormatException(source, "invalid " + defaults.modelType() + " config: " + problem, e);
    }
  }

  /** The config.json keys of a config type (those {@link #merge} reads), model_type included. */
  public static java.util.Set<String> keys(ModelConfig config) {
    java.util.Set<String> keys = new java.util.TreeSet<>();
    MAPPER.valueToTree(config).fieldNames().forEachRemaining(keys::add);
    keys.add("model_type");
    keys.add("architectures");
    return keys;
  }

  /** The config.json keys whose values differ between two configs, e.g. "[n_layer (2 vs 4)]". */
  public static String differingKeys(ModelConfig a, ModelConfig b) {
    JsonNode left = MAPPER.valueToTree(a);
    JsonNode right = MAPPER.valueToTree(b);
    java.util.List<String> keys = new java.util.ArrayList<>();
    if (!a.modelType().equals(b.modelType())) {
      keys.add("model_type (" + a.modelType() + " vs " + b.modelType() + ")");
    }
    left.fieldNames().forEachRemaining(key -> {
      if (!left.get(key).equals(right.get(key))) {
        keys.add(key + " (" + left.get(key) + " vs " + right.get(key) + ")");
      }
    });
    return keys.toString();
  }

  /** The key path of a mapping error, e.g. "hidden_size". */
  private static String jsonPath(JsonProcessingException e) {
    if (!(e instanceof JsonMappingException mapping)) {
      return "?";
    }
    return mapping.getPath().stream()
        .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
        .collect(Collectors.joining("."));
  }

  /** The JSON object of {@code file}, read strictly (see {@link StrictJson}); errors name the file. */
  static ObjectNode readObject(Path file) throws IOException {
    return StrictJson.readObject(file);
  }

  /** Largest layer count accepted (the deepest published models have about 100 layers). */
  public static final int MAX_LAYERS = 4096;

  /** Largest hidden size (n_embd, hidden_size) accepted. */
  public static final int MAX_HIDDEN = 1 << 16;

  /** Largest feed-forward width (n_inner, intermediate_size) accepted. */
  public static final int MAX_INNER = 1 << 20;

  /** Largest position count (n_positions, max_position_embeddings) accepted. */
  public static final int MAX_POSITIONS = 1 << 20;

  /** Largest vocabulary (vocab_size) accepted. */
  public static final int MAX_VOCAB = 1 << 24;

  /** Largest type vocabulary (type_vocab_size) accepted. */
  public static final int MAX_TYPE_VOCAB = 1 << 10;

  /** Most elements one parameter tensor may have (it is loaded and saved through one Java array). */
  public static final long MAX_TENSOR_ELEMENTS = Integer.MAX_VALUE - 8;

  /** {@code value} in [1, limit]; the message names the key and the limit. */
  static void requireSize(String key, int value, int limit) {
    requirePositive(key, value);
    if (value > limit) {
      throw new IllegalArgumentException(key + " " + value + " is above the limit of " + limit
          + " (a corrupt or hostile config?)");
    }
  }

  /** A parameter tensor of {@code rows x cols} elements must fit one Java array. */
  static void requireTensor(String what, String rowsKey, int rows, String colsKey, long cols) {
    long elements = Math.multiplyExact((long) rows, cols);
    if (elements > MAX_TENSOR_ELEMENTS) {
      throw new IllegalArgumentException(what + " would be " + rowsKey + " " + rows + " x " + colsKey + " " + cols
          + " = " + elements + " elements, more than the " + MAX_TENSOR_ELEMENTS + " one tensor may hold");
    }
  }

  static void requirePositive(String key, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(key + " must be positive, got " + value);
    }
  }

  static void requirePositive(String key, double value) {
    if (!(value > 0) || Double.isInfinite(value)) {
      throw new IllegalArgumentException(key + " must be a positive finite number, got " + value);
    }
  }

  static void requireProbability(String key, double value) {
    if (!(value >= 0 && value < 1)) {
      throw new IllegalArgumentException(key + " must be in [0, 1), got " + value);
    }
  }

  static void requireDivisible(String key, int value, String divisorKey, int divisor) {
    if (value % divisor != 0) {
      throw new IllegalArgumentException(key + " " + value + " is not divisible by " + divisorKey
          + " " + divisor);
    }
  }

  static void requireTokenId(String key, Integer id, int vocabSize) {
    if (id != null && (id < 0 || id >= vocabSize)) {
      throw new IllegalArgumentException(key + " " + id + " is outside the vocabulary [0, "
          + vocabSize + ")");
    }
  }

  static void requireTied(boolean tieWordEmbeddings) {
    if (!tieWordEmbeddings) {
      throw new IllegalArgumentException("tie_word_embeddings false is not supported "
          + "(the output layer always shares the word embeddings)");
    }
  }

  static void requireActivation(String key, String name) {
    if (name == null) {
      throw new IllegalArgumentException(key + " is missing");
    }
    try {
      GeluKind.fromHfName(name);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(key + ": " + e.getMessage(), e);
    }
  }
}
