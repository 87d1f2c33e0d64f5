package ai.lmtrain.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads and writes the Hugging Face safetensors format: an 8-byte little-endian header length N,
 * N bytes of UTF-8 JSON, then the tensor bytes.
 *
 * <p>The writer produces the same bytes as the reference implementation
 * (huggingface/safetensors {@code serialize}): tensors ordered by descending {@link
 * SafeTensorsDType} (alignment) then by name, contiguous offsets, {@code __metadata__} first,
 * compact JSON padded with spaces to a multiple of 8 bytes. The reader accepts any valid file (see
 * {@link SafeTensorsValidator} for the rules) and memory-maps tensor data.
 */
public final class SafeTensors {
  /** The metadata transformers expects on PyTorch checkpoints: {@code {"format": "pt"}}. */
  public static final Map<String, String> PT_METADATA = Map.of("format", "pt");

  /** Tensor bytes are written in pieces of this size to bound temporary direct buffers. */
  private static final int WRITE_CHUNK = 8 << 20;

  private static final JsonFactory JSON = new JsonFactory();

  private SafeTensors() {}

  /** Writes {@code tensors} with {@link #PT_METADATA}, atomically. */
  public static void write(Path file, Map<String, TensorData> tensors) throws IOException {
    write(file, tensors, PT_METADATA);
  }

  /**
   * Writes {@code tensors} to {@code file} atomically (temp file in the same folder, fsync,
   * rename): a crash leaves either the previous file or the complete new one.
   *
   * @param metadata string metadata stored under {@code __metadata__}; {@code null} omits the key
   * @throws IllegalArgumentException for a tensor named {@code __metadata__} or null metadata entries
   */
  public static void write(Path file, Map<String, TensorData> tensors, Map<String, String> metadata)
      throws IOException {
    List<Map.Entry<String, TensorData>> ordered = storageOrder(tensors);
    ByteBuffer prefix = headerWithLength(ordered, metadata);
    AtomicFiles.write(file, channel -> {
      AtomicFiles.writeFully(channel, prefix);
      for (Map.Entry<String, TensorData> entry : ordered) {
        writeChunked(channel, entry.getValue().data());
      }
    });
  }

  /**
   * The padded JSON header (without the 8-byte length) that {@link #write} produces for these
   * tensors and metadata.
   */
  public static byte[] header(Map<String, TensorData> tensors, Map<String, String> metadata) {
    ByteBuffer withLength = headerWithLength(storageOrder(tensors), metadata);
    byte[] header = new byte[withLength.remaining() - 8];
    withLength.position(8).get(header);
    return header;
  }

  /**
   * Reads {@code file}: validates the header ({@link SafeTensorsValidator}) and memory-maps each
   * tensor's bytes.
   *
   * @throws FileFormatException naming the file and the broken rule
   * @throws IOException when the file cannot be read
   */
  public static SafeTensorsFile read(Path file) throws IOException {
    SafeTensorsValidator.Header header = SafeTensorsValidator.validate(file);
    Map<String, TensorData> tensors = new LinkedHashMap<>();
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      for (SafeTensorsValidator.Entry entry : header.entries()) {
        long length = entry.end() - entry.begin();
        if (length > Integer.MAX_VALUE) {
          throw new FileFormatException(file, "tensor '" + entry.name() + "' has " + length
              + " bytes; tensors over 2 GiB are not supported");
        }
        ByteBuffer bytes = channel.map(FileChannel.MapMode.READ_ONLY, header.dataStart() + entry.begin(), length);
        tensors.put(entry.name(), new TensorData(entry.dtype().name(), entry.shape(), bytes));
      }
    }
    return new SafeTensorsFile(file, header.metadata(), tensors);
  }

  /** Descending dtype (alignment), then name: the reference writer's order. */
  private static List<Map.Entry<String, TensorData>> storageOrder(Map<String, TensorData> tensors) {
    List<Map.Entry<String, TensorData>> ordered = new ArrayList<>(tensors.entrySet());
    for (Map.Entry<String, TensorData> entry : ordered) {
      if (entry.getKey() == null || entry.getValue() == null) {
        throw new IllegalArgumentException("tensor names and tensors must not be null");
      }
      if (entry.getKey().equals(SafeTensorsValidator.METADATA_KEY)) {
        throw new IllegalArgumentException("'" + SafeTensorsValidator.METADATA_KEY
            + "' is reserved and cannot name a tensor");
      }
    }
    ordered.sort(Comparator.<Map.Entry<String, TensorData>, SafeTensorsDType>comparing(
            e -> e.getValue().type(), Comparator.reverseOrder())
        .thenComparing(Map.Entry::getKey));
    return ordered;
  }

  /** The 8-byte length followed by the padded header, ready to write. */
  private static ByteBuffer headerWithLength(List<Map.Entry<String, TensorData>> ordered,
      Map<String, String> metadata) {
    ByteArrayOutputStream json = new ByteArrayOutputStream();
    try (JsonGenerator out = JSON.createGenerator(json)) {
      out.writeStartObject();
      if (metadata != null) {
        out.writeObjectFieldStart(SafeTensorsValidator.METADATA_KEY);
        for (Map.Entry<String, String> entry : new TreeMap<>(metadata).entrySet()) {
          if (entry.getValue() == null) {
            throw new IllegalArgumentException("metadata value for '" + entry.getKey() + "' is null");
          }
          out.writeStringField(entry.getKey(), entry.getValue());
        }
        out.writeEndObject();
      }
      long offset = 0;
      for (Map.Entry<String, TensorData> entry : ordered) {
        TensorData tensor = entry.getValue();
        long end = offset + tensor.data().remaining();
        out.writeObjectFieldStart(entry.getKey());
        out.writeStringField("dtype", tensor.dtype());
        out.writeArrayFieldStart("shape");
        for (long dim : tensor.shape()) {
          out.writeNumber(dim);
        }
        out.writeEndArray();
        out.writeArrayFieldStart("data_offsets");
        out.writeNumber(offset);
        out.writeNumber(end);
        out.writeEndArray();
        out.writeEndObject();
        offset = end;
      }
      out.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException("writing JSON to memory cannot fail", e);
    }
    int padding = (8 - json.size() % 8) % 8;
    for (int i = 0; i < padding; i++) {
      json.write(' ');
    }
    ByteBuffer buffer = ByteBuffer.allocate(8 + json.size()).order(ByteOrder.LITTLE_ENDIAN);
    buffer.putLong(json.size()).put(json.toByteArray());
    return buffer.flip();
  }

  private static void writeChunked(FileChannel channel, ByteBuffer data) throws IOException {
    while (data.hasRemaining()) {
      ByteBuffer chunk = data.slice();
      chunk.limit(Math.min(chunk.remaining(), WRITE_CHUNK));
      AtomicFiles.writeFully(channel, chunk);
      data.position(data.position() + chunk.limit());
    }
  }
}
