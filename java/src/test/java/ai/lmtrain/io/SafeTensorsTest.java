package ai.lmtrain.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.tensor.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
  @TempDir Path dir;

  private static final float[] ZERO_TO_FIVE = {0, 1, 2, 3, 4, 5};

  /** The reference implementation's test vector (huggingface/safetensors test_serialization). */
  @Test
  void writesTheReferenceTestVectorByteForByte() throws IOException {
    Path file = dir.resolve("attn.safetensors");
    SafeTensors.write(file, Map.of("attn.0", TensorData.ofFloats(new long[] {1, 2, 3}, ZERO_TO_FIVE)), null);

    String header = "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}";
    assertEquals(64, header.length());
    byte[] expected = ByteBuffer.allocate(8 + 64 + 24).order(ByteOrder.LITTLE_ENDIAN)
        .putLong(64).put(header.getBytes(StandardCharsets.US_ASCII))
        .putFloat(0).putFloat(1).putFloat(2).putFloat(3).putFloat(4).putFloat(5).array();
    assertArrayEquals(expected, Files.readAllBytes(file));
  }

  /** A 65-byte header is padded with 7 spaces to 72 (reference test_serialization_forced_alignement). */
  @Test
  void padsTheHeaderWithSpacesToAMultipleOfEight() {
    byte[] header = SafeTensors.header(
        Map.of("attn0", TensorData.ofFloats(new long[] {1, 1, 2, 3}, ZERO_TO_FIVE)), null);
    assertEquals(72, header.length);
    assertEquals("{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ",
        new String(header, StandardCharsets.US_ASCII));
  }

  @Test
  void emptyFilesMatchTheReference() {
    assertEquals("{}      ", new String(SafeTensors.header(Map.of(), null), StandardCharsets.US_ASCII));
    byte[] withMetadata = SafeTensors.header(Map.of(), Map.of("framework", "pt"));
    assertEquals(40, withMetadata.length);
    assertEquals("{\"__metadata__\":{\"framework\":\"pt\"}}     ",
        new String(withMetadata, StandardCharsets.US_ASCII));
  }

  @Test
  void roundTripsEveryProjectDtypeWithPtMetadataInReferenceOrder() throws IOException {
    Map<String, TensorData> tensors = new LinkedHashMap<>();
    tensors.put("b.weight", TensorData.ofFloats(new long[] {2, 3}, new float[] {1.5f, -2, 3, 4, 5, 6}));
    tensors.put("a.scale", TensorData.ofFloats(new long[] {}, new float[] {7}));
    tensors.put("empty", TensorData.ofFloats(new long[] {0, 3}, new float[0]));
    tensors.put("half", TensorData.of(DType.F16, new long[] {2}, shorts(DType.floatToF16(0.5f), DType.floatToF16(-3))));
    tensors.put("brain", TensorData.of(DType.BF16, new long[] {3},
        shorts(DType.floatToBf16(1), DType.floatToBf16(2), DType.floatToBf16(-0.25f))));
    tensors.put("ids", TensorData.of(DType.I64, new long[] {2}, ByteBuffer.allocate(16)
        .order(ByteOrder.LITTLE_ENDIAN).putLong(-1).putLong(1L << 40).flip()));
    tensors.put("mask", TensorData.of(DType.U8, new long[] {3}, ByteBuffer.wrap(new byte[] {1, 0, (byte) 255})));
    tensors.put("count", TensorData.of(DType.I32, new long[] {1}, ByteBuffer.allocate(4)
        .order(ByteOrder.LITTLE_ENDIAN).putInt(42).flip()));

    Path file = dir.resolve("model.safetensors");
    SafeTensors.write(file, tensors);
    SafeTensorsFile read = SafeTensors.read(file);

    assertEquals(Map.of("format", "pt"), read.metadata());
    // I64 (8 bytes) first, then F32, I32, BF16, F16, U8; names ascending within a dtype.
    assertEquals(List.of("ids", "a.scale", "b.weight", "empty", "count", "brain", "half", "mask"),
        List.copyOf(read.tensors().keySet()));
    for (Map.Entry<String, TensorData> entry : tensors.entrySet()) {
      TensorData expected = entry.getValue();
      TensorData actual = read.tensor(entry.getKey());
      assertEquals(expected.dtype(), actual.dtype(), entry.getKey());
      assertArrayEquals(expected.shape(), actual.shape(), entry.getKey());
      assertEquals(expected.data(), actual.data(), entry.getKey());
    }
    assertArrayEquals(new float[] {1.5f, -2, 3, 4, 5, 6}, read.tensor("b.weight").toFloats());
    assertArrayEquals(new float[] {1, 2, -0.25f}, read.tensor("brain").toFloats());
    assertArrayEquals(new float[] {0.5f, -3}, read.tensor("half").toFloats());
    assertEquals(1L << 40, read.tensor("ids").data().getLong(8));
    assertTrue(read.tensor("b.weight").data().isReadOnly(), "read tensors are read-only mappings");
    long headerLength = SafeTensorsValidator.validate(file).headerLength();
    assertEquals(0, headerLength % 8);
    assertEquals(Files.size(file), 8 + headerLength + 24 + 4 + 0 + 16 + 4 + 6 + 4 + 3);
  }

  @Test
  void writeReplacesAnExistingFileAndLeavesNoTemporaryFiles() throws IOException {
    Path file = dir.resolve("model.safetensors");
    SafeTensors.write(file, Map.of("x", TensorData.ofFloats(new long[] {1}, new float[] {1})));
    SafeTensors.write(file, Map.of("y", TensorData.ofFloats(new long[] {2}, new float[] {2, 3})));
    assertEquals(List.of("y"), List.copyOf(SafeTensors.read(file).tensors().keySet()));
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(List.of(file), files.toList());
    }
  }

  @Test
  void missingTensorLookupNamesTheFileAndTheTensor() throws IOException {
    Path file = dir.resolve("model.safetensors");
    SafeTensors.write(file, Map.of("x", TensorData.ofFloats(new long[] {1}, new float[] {1})));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SafeTensors.read(file).tensor("lm_head.weight"));
    assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("lm_head.weight"), e.getMessage());
  }

  @Test
  void rejectsBadTensorsOnWrite() {
    ByteBuffer fiveBytes = ByteBuffer.allocate(5);
    IllegalArgumentException wrongSize = assertThrows(IllegalArgumentException.class,
        () -> new TensorData("F32", new long[] {2}, fiveBytes));
    assertTrue(wrongSize.getMessage().contains("needs 8 bytes, got 5"), wrongSize.getMessage());
    IllegalArgumentException badDtype = assertThrows(IllegalArgumentException.class,
        () -> new TensorData("F31", new long[] {1}, fiveBytes));
    assertTrue(badDtype.getMessage().contains("unknown safetensors dtype 'F31'"), badDtype.getMessage());
    IllegalArgumentException reserved = assertThrows(IllegalArgumentException.class,
        () -> SafeTensors.write(dir.resolve("x.safetensors"),
            Map.of("__metadata__", TensorData.ofFloats(new long[] {1}, new float[] {1}))));
    assertTrue(reserved.getMessage().contains("reserved"), reserved.getMessage());
  }

  // ---- corrupt files: one clear error naming the file and the rule -------------------------

  private static final String ONE_TENSOR = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

  @Test
  void acceptsAnUnpaddedHeaderOfAnyLength() throws IOException {
    Path file = raw(ONE_TENSOR, 8);
    assertEquals(ONE_TENSOR.length(), SafeTensorsValidator.validate(file).headerLength());
    assertArrayEquals(new float[] {0, 0}, SafeTensors.read(file).tensor("a").toFloats());
  }

  @Test
  void rejectsAFileShorterThanTheLengthField() throws IOException {
    Path file = dir.resolve("short.safetensors");
    Files.write(file, new byte[] {1, 2, 3});
    assertRejected(file, "shorter than the 8-byte header length");
  }

  @Test
  void rejectsAHeaderLengthOverTheLimit() throws IOException {
    Path file = dir.resolve("huge.safetensors");
    Files.write(file, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(200_000_000L).array());
    assertRejected(file, "header length 200000000 exceeds the limit of 100000000");
    Files.write(file, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1).array());
    assertRejected(file, "header length 18446744073709551615 exceeds the limit");
  }

  @Test
  void rejectsAHeaderRunningPastTheEndOfTheFile() throws IOException {
    Path file = dir.resolve("cut.safetensors");
    Files.write(file, ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putLong(64).array());
    assertRejected(file, "runs past the end of the file");
  }

  @Test
  void rejectsTruncatedDataAndTrailingBytes() throws IOException {
    assertRejected(raw(ONE_TENSOR, 7), "truncated file?");
    assertRejected(raw(ONE_TENSOR, 9), "trailing bytes");
  }

  @Test
  void rejectsOverlapsAndHoles() throws IOException {
    assertRejected(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "no holes or overlaps");
    assertRejected(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8),
        "no holes or overlaps");
  }

  @Test
  void rejectsOffsetsThatDisagreeWithShapeAndDtype() throws IOException {
    assertRejected(raw("{\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
        "spanning 8 bytes, but BF16 [2] needs 4");
    assertRejected(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8),
        "end before begin");
    assertRejected(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8),
        "overflows 64 bits");
  }

  @Test
  void rejectsMalformedJsonAndEntries() throws IOException {
    assertRejected(raw("{\"a\":{\"dtype\":\"F32\",", 0), "not valid JSON");
    assertRejected(raw("[1,2]", 0), "must start with '{'");
    assertRejected(raw("{\"a\":1}", 0), "must be an object with dtype, shape and data_offsets");
    assertRejected(raw("{\"a\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
        "unknown safetensors dtype 'F33'");
    assertRejected(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4),
        "'shape' as an array of non-negative integers");
    assertRejected(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4),
        "'data_offsets' as an array of 2 non-negative integers");
    assertRejected(raw(ONE_TENSOR.replace("}}", "}} {}"), 8), "not valid JSON");
  }

  @Test
  void rejectsDuplicateKeys() throws IOException {
    assertRejected(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
        + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "duplicate key");
  }

  @Test
  void rejectsNonStringMetadataAndInvalidUtf8() throws IOException {
    assertRejected(raw("{\"__metadata__\":{\"format\":1}}", 0), "__metadata__['format'] must be a string");
    assertRejected(raw("{\"__metadata__\":[]}", 0), "__metadata__ must be an object of strings");
    Path file = dir.resolve("latin1.safetensors");
    byte[] header = {'{', '"', (byte) 0xe9, '"', ':', '1', '}'};
    Files.write(file, ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN)
        .putLong(header.length).put(header).array());
    assertRejected(file, "not valid UTF-8");
  }

  /** A file with an unpadded header and {@code dataBytes} zero bytes of data. */
  private Path raw(String header, int dataBytes) throws IOException {
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    Path file = Files.createTempFile(dir, "raw", ".safetensors");
    Files.write(file, ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN)
        .putLong(json.length).put(json).array());
    return file;
  }

  private static void assertRejected(Path file, String rule) {
    FileFormatException e = assertThrows(FileFormatException.class, () -> SafeTensors.read(file));
    assertTrue(e.getMessage().startsWith(file.toString() + ": "), e.getMessage());
    assertTrue(e.getMessage().contains(rule), "expected '" + rule + "' in: " + e.getMessage());
  }

  private static ByteBuffer shorts(short... values) {
    ByteBuffer buffer = ByteBuffer.allocate(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (short v : values) {
      buffer.putShort(v);
    }
    return buffer.flip();
  }
}
