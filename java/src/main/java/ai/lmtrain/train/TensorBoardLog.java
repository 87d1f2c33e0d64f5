package ai.lmtrain.train;

import ai.lmtrain.io.FolderLock;
import ai.lmtrain.io.TfRecordWriter;
import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * A TensorBoard event file: {@code LOGDIR/events.out.tfevents.SECONDS.HOST}, TFRecord-framed
 * {@code tensorboard.Event} protos (tensorboard/compat/proto/event.proto, summary.proto), written
 * the way TensorBoard's own writer writes them:
 * <ul>
 *   <li>first an Event with {@code file_version = "brain.Event:2"};</li>
 *   <li>scalars: Event {wall_time, step, summary {value {tag, simple_value}}};</li>
 *   <li>text: Event {wall_time, step, summary {value {tag "NAME/text_summary", metadata {plugin_data
 *       {plugin_name "text"}}, tensor {dtype DT_STRING, shape [1], string_val [UTF-8 text]}}}}, the
 *       text plugin's format (markdown is rendered);</li>
 *   <li>on a resumed run: Event {step, session_log {status START}}, which tells TensorBoard to drop
 *       the crashed run's events from that step on.</li>
 * </ul>
 * Fields are encoded with protobuf's {@link CodedOutputStream}; every event is flushed to the file
 * as it is written.
 */
public final class TensorBoardLog implements AutoCloseable {
  /** The prefix TensorBoard looks for in a log folder. */
  public static final String FILE_PREFIX = "events.out.tfevents.";

  // Field numbers of tensorboard's protos.
  private static final int EVENT_WALL_TIME = 1;
  private static final int EVENT_STEP = 2;
  private static final int EVENT_FILE_VERSION = 3;
  private static final int EVENT_SUMMARY = 5;
  private static final int EVENT_SESSION_LOG = 7;
  private static final int SESSION_LOG_STATUS = 1;
  private static final int SESSION_LOG_START = 1;
  private static final int SUMMARY_VALUE = 1;
  private static final int VALUE_TAG = 1;
  private static final int VALUE_SIMPLE_VALUE = 2;
  private static final int VALUE_TENSOR = 8;
  private static final int VALUE_METADATA = 9;
  private static final int METADATA_PLUGIN_DATA = 1;
  private static final int PLUGIN_DATA_NAME = 1;
  private static final int TENSOR_DTYPE = 1;
  private static final int TENSOR_SHAPE = 2;
  private static final int TENSOR_STRING_VAL = 8;
  private static final int SHAPE_DIM = 2;
  private static final int DIM_SIZE = 1;
  private static final int DT_STRING = 7;

  private final TfRecordWriter writer;

  private TensorBoardLog(TfRecordWriter writer) {
    this.writer = writer;
  }

  /**
   * Hugging Face's default logging_dir: {@code outputDir/runs/MONTHDAY_HH-MM-SS_HOST}, e.g.
   * runs/Dec04_13-05-59_myhost.
   */
  public static Path defaultDir(Path outputDir) {
    String time = LocalDateTime.now().format(DateTimeFormatter.ofPattern("MMMdd_HH-mm-ss", Locale.ENGLISH));
    return outputDir.resolve("runs").resolve(time + "_" + FolderLock.hostName());
  }

  /** Starts a new event file in {@code dir} (created if needed) with its file_version event. */
  public static TensorBoardLog open(Path dir) throws IOException {
    Files.createDirectories(dir);
    long seconds = System.currentTimeMillis() / 1000;
    String base = FILE_PREFIX + String.format(Locale.ROOT, "%010d", seconds) + "." + FolderLock.hostName();
    for (int attempt = 0; ; attempt++) {
      Path file = dir.resolve(attempt == 0 ? base : base + "." + attempt);
      try {
        TensorBoardLog log = new TensorBoardLog(TfRecordWriter.create(file));
        log.write(0, out -> out.writeString(EVENT_FILE_VERSION, "brain.Event:2"));
        return log;
      } catch (FileAlreadyExistsException e) {
        if (attempt > 100) {
          throw e;
        }
      }
    }
  }

  /** The event file. */
  public Path file() {
    return writer.file();
  }

  /** A scalar summary of {@code tag} at {@code step}. */
  public void scalar(String tag, long step, double value) throws IOException {
    byte[] v = message(out -> {
      out.writeString(VALUE_TAG, tag);
      out.writeFloat(VALUE_SIMPLE_VALUE, (float) value);
    });
    write(step, out -> out.writeByteArray(EVENT_SUMMARY, message(s -> s.writeByteArray(SUMMARY_VALUE, v))));
  }

  /** A text summary (markdown) shown by TensorBoard's text dashboard under {@code name}. */
  public void text(String name, long step, String text) throws IOException {
    byte[] pluginData = message(out -> out.writeString(PLUGIN_DATA_NAME, "text"));
    byte[] metadata = message(out -> out.writeByteArray(METADATA_PLUGIN_DATA, pluginData));
    byte[] shape = message(out -> out.writeByteArray(SHAPE_DIM, message(d -> d.writeInt64(DIM_SIZE, 1))));
    byte[] tensor = message(out -> {
      out.writeEnum(TENSOR_DTYPE, DT_STRING);
      out.writeByteArray(TENSOR_SHAPE, shape);
      out.writeByteArray(TENSOR_STRING_VAL, text.getBytes(StandardCharsets.UTF_8));
    });
    byte[] v = message(out -> {
      out.writeString(VALUE_TAG, name + "/text_summary");
      out.writeByteArray(VALUE_METADATA, metadata);
      out.writeByteArray(VALUE_TENSOR, tensor);
    });
    write(step, out -> out.writeByteArray(EVENT_SUMMARY, message(s -> s.writeByteArray(SUMMARY_VALUE, v))));
  }

  /** Marks a restart at {@code step}: TensorBoard discards this run's earlier events from that step on. */
  public void sessionStart(long step) throws IOException {
    write(step, out -> out.writeByteArray(EVENT_SESSION_LOG,
        message(s -> s.writeEnum(SESSION_LOG_STATUS, SESSION_LOG_START))));
  }

  @Override
  public void close() throws IOException {
    writer.close();
  }

  /** Writes the fields of one protobuf message. */
  @FunctionalInterface
  private interface Fields {
    void write(CodedOutputStream out) throws IOException;
  }

  private static byte[] message(Fields fields) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    fields.write(out);
    out.flush();
    return bytes.toByteArray();
  }

  /** One Event: wall_time (now), step, then {@code what}. */
  private void write(long step, Fields what) throws IOException {
    double wallTime = System.currentTimeMillis() / 1000.0;
    writer.write(message(out -> {
      out.writeDouble(EVENT_WALL_TIME, wallTime);
      out.writeInt64(EVENT_STEP, step);
      what.write(out);
    }));
  }
}
