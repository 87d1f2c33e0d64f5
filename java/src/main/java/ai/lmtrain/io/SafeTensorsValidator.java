package ai.lmtrain.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks every header rule of the safetensors format and returns the parsed header. Each
 * violation is reported as one {@link FileFormatException} naming the file and the rule:
 *
 * <ol>
 *   <li>the file holds at least the 8-byte header length N (unsigned, little-endian);
 *   <li>N &lt;= 100,000,000 and 8 + N &lt;= file size;
 *   <li>the header is valid UTF-8 JSON starting with '{', one object (trailing spaces allowed),
 *       without duplicate keys;
 *   <li>{@code __metadata__}, when present, maps strings to strings;
 *   <li>every other entry is an object with a known {@code dtype}, a {@code shape} of
 *       non-negative integers and {@code data_offsets} [begin, end] with begin &lt;= end;
 *   <li>end - begin == numel * dtype size (without overflow);
 *   <li>sorted by offset, the tensors tile the data buffer from 0 with no holes or overlaps;
 *   <li>8 + N + last end == file size.
 * </ol>
 */
public final class SafeTensorsValidator {
  /** The largest header the format accepts, in bytes. */
  public static final long MAX_HEADER_BYTES = 100_000_000L;

  /** The reserved header key for string metadata. */
  public static final String METADATA_KEY = "__metadata__";

  private static final ObjectMapper STRICT_JSON = new ObjectMapper()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private SafeTensorsValidator() {}

  /**
   * One tensor entry of a header.
   *
   * @param name the tensor name
   * @param dtype the element type
   * @param shape the dimensions
   * @param begin first byte, relative to the start of the data buffer
   * @param end one past the last byte
   */
  public record Entry(String name, SafeTensorsDType dtype, long[] shape, long begin, long end) {
    /** Copies the shape. */
    public Entry {
      shape = shape.clone();
    }

    /** A copy of the shape. */
    @Override
    public long[] shape() {
      return shape.clone();
    }
  }

  /**
   * A validated header.
   *
   * @param headerLength N, the JSON header length in bytes
   * @param metadata the {@code __metadata__} map (empty when absent)
   * @param entries the tensors, sorted by data offset
   */
  public record Header(long headerLength, Map<String, String> metadata, List<Entry> entries) {
    /** Makes the collections unmodifiable. */
    public Header {
      metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
      entries = List.copyOf(entries);
    }

    /** Offset of the data buffer from the start of the file: 8 + N. */
    public long dataStart() {
      return 8 + headerLength;
    }
  }

  /**
   * Validates the header of {@code file} against its size.
   *
   * @throws FileFormatException naming the file and the first rule broken
   * @throws IOException when the file cannot be read
   */
  public static Header validate(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long fileSize = channel.size();
      if (fileSize < 8) {
        throw new FileFormatException(file, "not a safetensors file: " + fileSize
            + " bytes is shorter than the 8-byte header length");
      }
      ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(channel, lengthBytes, 0);
      long n = lengthBytes.getLong(0);
      // n is unsigned: a negative long is a length of 2^63 or more.
      if (n < 0 || n > MAX_HEADER_BYTES) {
        throw new FileFormatException(file, "safetensors header length " + Long.toUnsignedString(n)
            + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes (corrupt or not a safetensors file)");
      }
      if (8 + n > fileSize) {
        throw new FileFormatException(file, "safetensors header length " + n
            + " runs past the end of the file (" + fileSize + " bytes; truncated file?)");
      }
      ByteBuffer headerBytes = ByteBuffer.allocate((int) n);
      readFully(channel, headerBytes, 8);
      return parse(file, n, headerBytes.flip(), fileSize);
    }
  }

  /** Validates header bytes (without the 8-byte length) against the total file size. */
  static Header parse(Path file, long n, ByteBuffer headerBytes, long fileSize)
      throws FileFormatException {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(headerBytes)
          .toString();
    } catch (CharacterCodingException e) {
      throw new FileFormatException(file, "safetensors header is not valid UTF-8", e);
    }
    if (!text.startsWith("{")) {
      throw new FileFormatException(file, "safetensors header must start with '{'");
    }
    JsonNode root;
    try {
      root = STRICT_JSON.readTree(text);
    } catch (JsonProcessingException e) {
      String problem = e.getOriginalMessage();
      throw new FileFormatException(file, problem.startsWith("Duplicate field")
          ? "safetensors header has a duplicate key: " + problem
          : "safetensors header is not valid JSON: " + problem, e);
    }
    if (root == null || !root.isObject()) {
      throw new FileFormatException(file, "safetensors header must be one JSON object");
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    List<Entry> entries = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      if (field.getKey().equals(METADATA_KEY)) {
        metadata.putAll(parseMetadata(file, field.getValue()));
      } else {
        entries.add(parseEntry(file, field.getKey(), field.getValue()));
      }
    }
    entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    long expectedBegin = 0;
    for (Entry entry : entries) {
      if (entry.begin() != expectedBegin) {
        throw new FileFormatException(file, "tensor '" + entry.name() + "' has data_offsets ["
            + entry.begin() + ", " + entry.end() + "] but the previous tensor ends at " + expectedBegin
            + " (tensors must tile the data buffer with no holes or overlaps)");
      }
      expectedBegin = entry.end();
    }
    if (8 + n + expectedBegin != fileSize) {
      throw new FileFormatException(file, "header describes " + expectedBegin
          + " data bytes, so the file should be 8 + " + n + " + " + expectedBegin + " = "
          + (8 + n + expectedBegin) + " bytes, but it is " + fileSize + " bytes"
          + (fileSize < 8 + n + expectedBegin ? " (truncated file?)" : " (trailing bytes)"));
    }
    return new Header(n, metadata, entries);
  }

  private static Map<String, String> parseMetadata(Path file, JsonNode node) throws FileFormatException {
    if (!node.isObject()) {
      throw new FileFormatException(file, METADATA_KEY + " must be an object of strings");
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      if (!field.getValue().isTextual()) {
        throw new FileFormatException(file, METADATA_KEY + "['" + field.getKey()
            + "'] must be a string, got " + field.getValue().getNodeType());
      }
      metadata.put(field.getKey(), field.getValue().textValue());
    }
    return metadata;
  }

  private static Entry parseEntry(Path file, String name, JsonNode node) throws FileFormatException {
    String where = "tensor '" + name + "'";
    if (!node.isObject()) {
      throw new FileFormatException(file, where + " must be an object with dtype, shape and data_offsets");
    }
    JsonNode dtypeNode = node.get("dtype");
    if (dtypeNode == null || !dtypeNode.isTextual()) {
      throw new FileFormatException(file, where + " needs a string 'dtype'");
    }
    SafeTensorsDType dtype;
    try {
      dtype = SafeTensorsDType.of(dtypeNode.textValue());
    } catch (IllegalArgumentException e) {
      throw new FileFormatException(file, where + ": " + e.getMessage());
    }
    long[] shape = nonNegativeLongs(file, where, "shape", node.get("shape"), -1);
    long[] offsets = nonNegativeLongs(file, where, "data_offsets", node.get("data_offsets"), 2);
    if (offsets[1] < offsets[0]) {
      throw new FileFormatException(file, where + " has data_offsets " + Arrays.toString(offsets)
          + " with end before begin");
    }
    long expectedBytes;
    try {
      expectedBytes = Math.multiplyExact(TensorData.numel(shape), dtype.size());
    } catch (ArithmeticException e) {
      throw new FileFormatException(file, where + " has shape " + Arrays.toString(shape)
          + " whose byte size overflows 64 bits");
    }
    if (offsets[1] - offsets[0] != expectedBytes) {
      throw new FileFormatException(file, where + " has data_offsets " + Arrays.toString(offsets)
          + " spanning " + (offsets[1] - offsets[0]) + " bytes, but " + dtype + " "
          + Arrays.toString(shape) + " needs " + expectedBytes);
    }
    return new Entry(name, dtype, shape, offsets[0], offsets[1]);
  }

  /** Reads an array of non-negative 64-bit integers; {@code length} -1 accepts any length. */
  private static long[] nonNegativeLongs(Path file, String where, String key, JsonNode node, int length)
      throws FileFormatException {
    String expected = where + " needs '" + key + "' as an array of "
        + (length < 0 ? "" : length + " ") + "non-negative integers";
    if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
      throw new FileFormatException(file, expected);
    }
    long[] values = new long[node.size()];
    for (int i = 0; i < values.length; i++) {
      JsonNode item = node.get(i);
      if (!item.isIntegralNumber() || !item.canConvertToLong() || item.longValue() < 0) {
        throw new FileFormatException(file, expected + ", got " + node);
      }
      values[i] = item.longValue();
    }
    return values;
  }

  private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
    long at = position;
    while (buffer.hasRemaining()) {
      int read = channel.read(buffer, at);
      if (read < 0) {
        throw new IOException("unexpected end of file at byte " + at);
      }
      at += read;
    }
  }
}
