package ai.lmtrain.train;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * A TensorBoard event-file reader for tests, written from the formats' specifications
 * (TensorFlow's record_writer: uint64 length, masked CRC32C of the length, data, masked CRC32C of
 * the data; tensorboard/compat/proto event.proto, summary.proto, tensor.proto), independent of
 * {@link TensorBoardLog}: it checks both checksums of every record and decodes the Events' fields.
 */
public final class TfEventReader {
  private TfEventReader() {}

  /** One decoded summary value: a scalar (simple_value) or a text tensor (string_val). */
  public record Value(String tag, Float simpleValue, String pluginName, Integer dtype, List<Long> shape, String text) {}

  /** One decoded Event. */
  public record Event(double wallTime, long step, String fileVersion, List<Value> values, Integer sessionStatus) {}

  /** TFRecord's mask: rotate right by 15 bits and add a constant (TensorFlow's crc32c.h). */
  static int mask(int crc) {
    return Integer.rotateRight(crc, 15) + 0xa282ead8;
  }

  static int crc32c(byte[] data, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(data, offset, length);
    return (int) crc.getValue();
  }

  /** Every Event of {@code file}; an IOException names the record whose checksum or framing is wrong. */
  public static List<Event> read(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    List<Event> events = new ArrayList<>();
    while (in.hasRemaining()) {
      int start = in.position();
      if (in.remaining() < 12) {
        throw new IOException("record " + events.size() + ": truncated header");
      }
      long length = in.getLong();
      if (in.getInt() != mask(crc32c(bytes, start, 8))) {
        throw new IOException("record " + events.size() + ": length checksum mismatch");
      }
      if (length < 0 || in.remaining() < length + 4) {
        throw new IOException("record " + events.size() + ": truncated data");
      }
      int dataStart = in.position();
      in.position(dataStart + (int) length);
      if (in.getInt() != mask(crc32c(bytes, dataStart, (int) length))) {
        throw new IOException("record " + events.size() + ": data checksum mismatch");
      }
      events.add(event(CodedInputStream.newInstance(bytes, dataStart, (int) length)));
    }
    return events;
  }

  private static Event event(CodedInputStream in) throws IOException {
    double wallTime = 0;
    long step = 0;
    String fileVersion = null;
    List<Value> values = new ArrayList<>();
    Integer session = null;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case 1 -> wallTime = in.readDouble();
        case 2 -> step = in.readInt64();
        case 3 -> fileVersion = in.readString();
        case 5 -> values.addAll(summary(CodedInputStream.newInstance(in.readByteArray())));
        case 7 -> {
          CodedInputStream s = CodedInputStream.newInstance(in.readByteArray());
          for (int t = s.readTag(); t != 0; t = s.readTag()) {
            if (WireFormat.getTagFieldNumber(t) == 1) {
              session = s.readEnum();
            } else {
              s.skipField(t);
            }
          }
        }
        default -> in.skipField(tag);
      }
    }
    return new Event(wallTime, step, fileVersion, values, session);
  }

  private static List<Value> summary(CodedInputStream in) throws IOException {
    List<Value> out = new ArrayList<>();
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      if (WireFormat.getTagFieldNumber(tag) == 1) {
        out.add(value(CodedInputStream.newInstance(in.readByteArray())));
      } else {
        in.skipField(tag);
      }
    }
    return out;
  }

  private static Value value(CodedInputStream in) throws IOException {
    String tag = null;
    Float simple = null;
    String plugin = null;
    Integer dtype = null;
    List<Long> shape = null;
    String text = null;
    for (int t = in.readTag(); t != 0; t = in.readTag()) {
      switch (WireFormat.getTagFieldNumber(t)) {
        case 1 -> tag = in.readString();
        case 2 -> simple = in.readFloat();
        case 9 -> { // SummaryMetadata { PluginData plugin_data = 1 { string plugin_name = 1 } }
          CodedInputStream m = CodedInputStream.newInstance(in.readByteArray());
          for (int u = m.readTag(); u != 0; u = m.readTag()) {
            if (WireFormat.getTagFieldNumber(u) == 1) {
              CodedInputStream p = CodedInputStream.newInstance(m.readByteArray());
              for (int v = p.readTag(); v != 0; v = p.readTag()) {
                if (WireFormat.getTagFieldNumber(v) == 1) {
                  plugin = p.readString();
                } else {
                  p.skipField(v);
                }
              }
            } else {
              m.skipField(u);
            }
          }
        }
        case 8 -> { // TensorProto { dtype = 1; tensor_shape = 2 { dim = 2 { size = 1 } }; string_val = 8 }
          CodedInputStream ts = CodedInputStream.newInstance(in.readByteArray());
          shape = new ArrayList<>();
          for (int u = ts.readTag(); u != 0; u = ts.readTag()) {
            switch (WireFormat.getTagFieldNumber(u)) {
              case 1 -> dtype = ts.readEnum();
              case 2 -> {
                CodedInputStream sh = CodedInputStream.newInstance(ts.readByteArray());
                for (int v = sh.readTag(); v != 0; v = sh.readTag()) {
                  if (WireFormat.getTagFieldNumber(v) == 2) {
                    CodedInputStream dim = CodedInputStream.newInstance(sh.readByteArray());
                    for (int w = dim.readTag(); w != 0; w = dim.readTag()) {
                      if (WireFormat.getTagFieldNumber(w) == 1) {
                        shape.add(dim.readInt64());
                      } else {
                        dim.skipField(w);
                      }
                    }
                  } else {
                    sh.skipField(v);
                  }
                }
              }
              case 8 -> text = new String(ts.readByteArray(), StandardCharsets.UTF_8);
              default -> ts.skipField(u);
            }
          }
        }
        default -> in.skipField(t);
      }
    }
    return new Value(tag, simple, plugin, dtype, shape, text);
  }
}
