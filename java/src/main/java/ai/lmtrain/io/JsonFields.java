package ai.lmtrain.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Typed, range-checked access to the fields of one JSON object read from a file. Every problem is a
 * {@link FileFormatException} naming the file, the field's path ({@code loader.epoch}) and what was
 * expected; values are never coerced (a string is not a number, 1.0 is not an integer).
 */
public final class JsonFields {
  private final Path file;
  private final String prefix;
  private final ObjectNode node;

  private JsonFields(Path file, String prefix, ObjectNode node) {
    this.file = file;
    this.prefix = prefix;
    this.node = node;
  }

  /** The fields of {@code node}, the top-level object of {@code file}. */
  public static JsonFields of(Path file, ObjectNode node) {
    return new JsonFields(file, "", node);
  }

  /** The object itself. */
  public ObjectNode node() {
    return node;
  }

  /** Whether the field is present (null counts as present). */
  public boolean has(String key) {
    return node.has(key);
  }

  /** The nested object {@code key}. */
  public JsonFields object(String key) throws FileFormatException {
    JsonNode value = require(key);
    if (!(value instanceof ObjectNode object)) {
      throw wrong(key, "an object", value);
    }
    return new JsonFields(file, path(key) + ".", object);
  }

  /** The objects of the array {@code key}, each named by its index in messages ({@code shards[2].tokens}). */
  public List<JsonFields> objects(String key) throws FileFormatException {
    JsonNode value = require(key);
    if (!value.isArray()) {
      throw wrong(key, "an array of objects", value);
    }
    List<JsonFields> out = new ArrayList<>();
    for (int i = 0; i < value.size(); i++) {
      if (!(value.get(i) instanceof ObjectNode object)) {
        throw wrong(key + "[" + i + "]", "an object", value.get(i));
      }
      out.add(new JsonFields(file, path(key) + "[" + i + "].", object));
    }
    return out;
  }

  /** An integer in [min, max]. */
  public long integer(String key, long min, long max) throws FileFormatException {
    JsonNode value = require(key);
    if (!value.isIntegralNumber() || !value.canConvertToLong() || value.longValue() < min || value.longValue() > max) {
      throw wrong(key, "an integer in [" + min + ", " + max + "]", value);
    }
    return value.longValue();
  }

  /** An int in [min, max]. */
  public int intInRange(String key, int min, int max) throws FileFormatException {
    return (int) integer(key, min, max);
  }

  /** A finite number in [min, max]. */
  public double finite(String key, double min, double max) throws FileFormatException {
    JsonNode value = require(key);
    double v = value.isNumber() ? value.doubleValue() : Double.NaN;
    if (!value.isNumber() || !Double.isFinite(v) || v < min || v > max) {
      throw wrong(key, "a finite number in [" + min + ", " + max + "]", value);
    }
    return v;
  }

  /** A string. */
  public String text(String key) throws FileFormatException {
    JsonNode value = require(key);
    if (!value.isTextual()) {
      throw wrong(key, "a string", value);
    }
    return value.textValue();
  }

  /**
   * Rejects fields outside {@code known}: a misspelt or foreign key is an error, not silently
   * ignored.
   */
  public void requireOnly(Set<String> known) throws FileFormatException {
    List<String> unknown = new ArrayList<>();
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!known.contains(key)) {
        unknown.add(path(key));
      }
    }
    if (!unknown.isEmpty()) {
      throw new FileFormatException(file, "unknown field(s) " + unknown + " (expected only " + known + ")");
    }
  }

  /** A problem with field {@code key}, for checks the caller makes. */
  public FileFormatException problem(String key, String message) {
    return new FileFormatException(file, "field '" + path(key) + "' " + message);
  }

  private JsonNode require(String key) throws FileFormatException {
    JsonNode value = node.get(key);
    if (value == null) {
      throw new FileFormatException(file, "missing field '" + path(key) + "'");
    }
    return value;
  }

  private FileFormatException wrong(String key, String expected, JsonNode value) {
    return problem(key, "must be " + expected + ", got " + StrictJson.describe(value));
  }

  private String path(String key) {
    return prefix + key;
  }
}
