package ai.lmtrain.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TensorBoard event files read back by {@link TfEventReader}, an independent reader that checks
 * the TFRecord framing and both CRCs and decodes the Event protos: the file_version record first,
 * scalars, text-plugin summaries and the resume marker carry the values that were logged.
 */
class TensorBoardLogTest {
  @TempDir Path dir;

  @Test
  void crc32cMatchesThePublishedVectors() {
    // RFC 3720 appendix B.4 (iSCSI CRC32C) and the common check value of "123456789".
    byte[] zeros = new byte[32];
    byte[] ones = new byte[32];
    byte[] ascending = new byte[32];
    byte[] descending = new byte[32];
    for (int i = 0; i < 32; i++) {
      ones[i] = (byte) 0xff;
      ascending[i] = (byte) i;
      descending[i] = (byte) (31 - i);
    }
    assertEquals(0x8a9136aa, TfEventReader.crc32c(zeros, 0, 32));
    assertEquals(0x62a8ab43, TfEventReader.crc32c(ones, 0, 32));
    assertEquals(0x46dd794e, TfEventReader.crc32c(ascending, 0, 32));
    assertEquals(0x113fdb5c, TfEventReader.crc32c(descending, 0, 32));
    assertEquals(0xe3069283, TfEventReader.crc32c("123456789".getBytes(StandardCharsets.US_ASCII), 0, 9));
    assertEquals(TfEventReader.mask(0xe3069283), ai.lmtrain.io.TfRecordWriter.maskedCrc32c(
        "123456789".getBytes(StandardCharsets.US_ASCII), 0, 9));
  }

  @Test
  void scalarsTextAndRestartsReadBack() throws IOException {
    long before = System.currentTimeMillis() / 1000;
    Path file;
    try (TensorBoardLog log = TensorBoardLog.open(dir.resolve("runs/x"))) {
      file = log.file();
      log.scalar("train/loss", 3, 1.5);
      log.scalar("eval/accuracy", 4, 0.875);
      log.text("eval/samples", 4, "* **the lion** is the king — of the savanna");
      log.sessionStart(5);
    }
    String name = file.getFileName().toString();
    assertTrue(name.matches("events\\.out\\.tfevents\\.\\d{10}\\..+"), name);
    long seconds = Long.parseLong(name.substring(20, 30));
    assertTrue(seconds >= before && seconds <= before + 60, name);

    List<TfEventReader.Event> events = TfEventReader.read(file);
    assertEquals(5, events.size());
    assertEquals("brain.Event:2", events.get(0).fileVersion());
    assertTrue(events.get(0).wallTime() >= before && events.get(0).values().isEmpty());
    TfEventReader.Value loss = events.get(1).values().get(0);
    assertEquals(3, events.get(1).step());
    assertEquals("train/loss", loss.tag());
    assertEquals(1.5f, loss.simpleValue());
    assertEquals(0.875f, events.get(2).values().get(0).simpleValue());
    TfEventReader.Value text = events.get(3).values().get(0);
    assertEquals("eval/samples/text_summary", text.tag());
    assertEquals("text", text.pluginName());
    assertEquals(7, text.dtype()); // DT_STRING
    assertEquals(List.of(1L), text.shape());
    assertEquals("* **the lion** is the king — of the savanna", text.text());
    assertNull(text.simpleValue());
    assertEquals(5, events.get(4).step());
    assertEquals(1, events.get(4).sessionStatus()); // SessionLog.START
  }

  @Test
  void theReaderCatchesACorruptedRecord() throws IOException {
    Path file;
    try (TensorBoardLog log = TensorBoardLog.open(dir)) {
      file = log.file();
      log.scalar("train/loss", 1, 2.0);
    }
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length - 6] ^= 0x01; // inside the scalar's data
    Files.write(file, bytes);
    IOException e = assertThrows(IOException.class, () -> TfEventReader.read(file));
    assertEquals("record 1: data checksum mismatch", e.getMessage());
  }

  @Test
  void twoLogsInOneSecondGetTwoFiles() throws IOException {
    try (TensorBoardLog a = TensorBoardLog.open(dir); TensorBoardLog b = TensorBoardLog.open(dir)) {
      assertTrue(!a.file().equals(b.file()));
    }
  }
}
