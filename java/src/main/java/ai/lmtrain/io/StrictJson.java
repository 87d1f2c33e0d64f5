package ai.lmtrain.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.type.LogicalType;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The JSON rules for every file lmtrain reads (config.json, trainer_state.json, training configs,
 * tokenizer files, metrics): a duplicate key is an error (not "the last one wins"), nothing follows
 * the top-level value, and values are never coerced — {@code "32"} is not a number, {@code 1} not a
 * boolean, {@code 1.5} not an integer, {@code null} not a primitive. Jackson's stream limits
 * (nesting depth 1000, numbers of 1000 digits, strings of 20 MB) bound the work a hostile file can
 * cause.
 */
public final class StrictJson {
  /** The largest JSON file read whole (configs and states are a few KB; a tokenizer.json a few MB). */
  public static final long MAX_FILE_BYTES = 256L << 20;

  /** The configured mapper; thread-safe. */
  public static final ObjectMapper MAPPER = create();

  private StrictJson() {}

  private static ObjectMapper create() {
    JsonMapper mapper = JsonMapper.builder()
        .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
        .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
        .build();
    // Values keep their JSON type: no "32" -> 32, "true" -> true, 1 -> true or 1 -> "1".
    for (LogicalType type : new LogicalType[] {LogicalType.Integer, LogicalType.Float, LogicalType.Boolean}) {
      mapper.coercionConfigFor(type)
          .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
          .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
    }
    mapper.coercionConfigFor(LogicalType.Boolean).setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
    mapper.coercionConfigFor(LogicalType.Textual)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    return mapper;
  }

  /**
   * Reads {@code file} as one JSON object.
   *
   * @throws FileFormatException naming the file: not JSON, a duplicate key, not an object, or
   *     larger than {@link #MAX_FILE_BYTES}
   * @throws IOException when the file cannot be read (the exception names it)
   */
  public static ObjectNode readObject(Path file) throws IOException {
    JsonNode root = parse(TextFiles.readBytes(file, MAX_FILE_BYTES), file);
    if (!(root instanceof ObjectNode object)) {
      throw new FileFormatException(file, "expected a JSON object, got " + describe(root));
    }
    return object;
  }

  /** Parses {@code bytes} (UTF-8 JSON) read from {@code file}; errors name the file. */
  public static JsonNode parse(byte[] bytes, Path file) throws FileFormatException {
    try {
      JsonNode root = MAPPER.readTree(bytes);
      if (root == null || root.isMissingNode()) {
        throw new FileFormatException(file, "empty file (expected JSON)");
      }
      return root;
    } catch (JsonProcessingException e) {
      throw new FileFormatException(file, problem(e), e);
    } catch (IOException e) {
      throw new FileFormatException(file, "cannot parse: " + e.getMessage(), e);
    }
  }

  /** The one-line problem of a parse error: "duplicate key ..." or "not valid JSON: ...". */
  public static String problem(JsonProcessingException e) {
    String message = e.getOriginalMessage();
    if (message != null && message.startsWith("Duplicate field")) {
      return "duplicate key: " + message + " (each key may appear once)";
    }
    String where = e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
        + e.getLocation().getColumnNr() + ")";
    return "not valid JSON" + where + ": " + message;
  }

  /** "a string", "an array", ... for messages. */
  public static String describe(JsonNode node) {
    if (node == null || node.isMissingNode()) {
      return "nothing";
    }
    return switch (node.getNodeType()) {
      case ARRAY -> "an array";
      case OBJECT -> "an object";
      case STRING -> "the string " + node;
      case BOOLEAN -> "the boolean " + node;
      case NULL -> "null";
      case NUMBER -> "the number " + node;
      default -> node.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
    };
  }
}
