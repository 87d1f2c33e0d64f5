package ai.lmtrain.data.shards;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.io.FileFormatException;
import ai.lmtrain.tokenizers.TestData;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** llm.c's shard format both ways, shards over several mappings, and the datasets read from shards. */
class ShardFormatTest {
  @TempDir Path tmp;

  /**
   * A shard exactly as llm.c's {@code data_common.write_datafile} writes one: a header of 256 int32
   * zeros with [0] = magic, [1] = version, [2] = the token count, then the tokens as numpy uint16
   * (or uint32), all little-endian.
   */
  static Path writeByTheDocumentedRules(Path file, int magic, int version, int[] tokens, int width) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(256 * 4 + tokens.length * width).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0, magic).putInt(4, version).putInt(8, tokens.length);
    for (int i = 0; i < tokens.length; i++) {
      if (width == 2) {
        b.putShort(1024 + 2 * i, (short) tokens[i]);
      } else {
        b.putInt(1024 + 4 * i, tokens[i]);
      }
    }
    Files.write(file, b.array());
    return file;
  }

  static int[] ramp(int n, int modulo) {
    int[] t = new int[n];
    for (int i = 0; i < n; i++) {
      t[i] = (i * 7919) % modulo;
    }
    return t;
  }

  static int[] all(TokenShard s) {
    int[] out = new int[(int) s.size()];
    s.read(0, out, 0, out.length);
    return out;
  }

  @Test
  void aFileWrittenByTheDocumentedHeaderRulesLoads() throws IOException {
    int[] train = ramp(5000, 50257);
    int[] val = ramp(700, 50257);
    Path dir = Files.createDirectories(tmp.resolve("tinyshakespeare"));
    writeByTheDocumentedRules(dir.resolve("tiny_shakespeare_train.bin"), 20240520, 1, train, 2);
    writeByTheDocumentedRules(dir.resolve("tiny_shakespeare_val.bin"), 20240520, 1, val, 2);
    ShardDirectory d = ShardDirectory.open(dir, TestData.gpt2());
    assertNull(d.info());
    assertEquals(1, d.train().size());
    assertArrayEquals(train, all(d.train().get(0)));
    assertArrayEquals(val, all(d.validation().get(0)));
    int[] llama = ramp(300, 128256);
    TokenShard l = TokenShard.open(writeByTheDocumentedRules(tmp.resolve("llama.bin"), 20240801, 7, llama, 4));
    assertArrayEquals(llama, all(l));
  }

  @Test
  void ourShardsAreWhatLlmcsLoaderChecks() throws IOException {
    int[] tokens = ramp(1234, 65536);
    Path ours = tmp.resolve("ours.bin");
    try (ShardWriter w = new ShardWriter(ours, 2)) {
      w.write(tokens, 0, 1000);
      w.write(tokens, 1000, tokens.length);
    }
    Path reference = writeByTheDocumentedRules(tmp.resolve("ref.bin"), 20240520, 1, tokens, 2);
    assertArrayEquals(Files.readAllBytes(reference), Files.readAllBytes(ours));
    Path wide = tmp.resolve("wide.bin");
    int[] big = ramp(999, 200_000);
    try (ShardWriter w = new ShardWriter(wide, 4)) {
      w.write(big, 0, big.length);
    }
    assertArrayEquals(Files.readAllBytes(writeByTheDocumentedRules(tmp.resolve("ref4.bin"), 20240520, 2, big, 4)),
        Files.readAllBytes(wide));
  }

  @Test
  void aWrongHeaderOrLengthIsOneClearError() throws IOException {
    int[] t = ramp(100, 1000);
    Path magic = writeByTheDocumentedRules(tmp.resolve("magic.bin"), 12345, 1, t, 2);
    assertEquals(magic + ": not a token shard (magic 12345, expected 20240520)",
        assertThrows(FileFormatException.class, () -> TokenShard.open(magic)).getMessage());
    Path version = writeByTheDocumentedRules(tmp.resolve("version.bin"), 20240520, 3, t, 2);
    assertEquals(version + ": unknown token shard version 3 (expected 1 = uint16 or 2 = uint32 tokens)",
        assertThrows(FileFormatException.class, () -> TokenShard.open(version)).getMessage());
    Path cut = writeByTheDocumentedRules(tmp.resolve("cut.bin"), 20240520, 1, t, 2);
    byte[] bytes = Files.readAllBytes(cut);
    Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 3));
    assertEquals(cut + ": the header says 100 tokens (1224 bytes) but the file has 1221 bytes (truncated, or not"
        + " written by the documented rules)", assertThrows(FileFormatException.class, () -> TokenShard.open(cut))
        .getMessage());
    Path tiny = tmp.resolve("tiny.bin");
    Files.write(tiny, new byte[10]);
    assertEquals(tiny + ": not a token shard (10 bytes, shorter than the 1024-byte header)",
        assertThrows(FileFormatException.class, () -> TokenShard.open(tiny)).getMessage());
  }

  @Test
  void tokensReadTheSameAcrossManyMappings() throws IOException {
    for (int width : new int[] {2, 4}) {
      int[] t = ramp(1001, width == 2 ? 65536 : 1 << 30);
      Path f = writeByTheDocumentedRules(tmp.resolve("m" + width + ".bin"), 20240520, width == 2 ? 1 : 2, t, width);
      TokenShard small = new TokenShard(f, 64); // 32 or 63 mappings of 64 bytes
      assertArrayEquals(t, all(small));
      int[] part = new int[300];
      small.read(350, part, 0, 300);
      assertArrayEquals(java.util.Arrays.copyOfRange(t, 350, 650), part);
    }
  }

  @Test
  void windowsOverlapByOneTokenSoEveryTokenIsATargetOnce() throws IOException {
    int[] a = ramp(101, 50000);
    int[] b = ramp(8, 50000);
    int[] c = ramp(40, 50000);
    List<TokenShard> shards = new ArrayList<>();
    int k = 0;
    for (int[] t : new int[][] {a, b, c}) {
      shards.add(TokenShard.open(writeByTheDocumentedRules(tmp.resolve("s" + k++ + ".bin"), 20240520, 1, t, 2)));
    }
    ShardWindowDataset d = new ShardWindowDataset(shards, 10, 50000);
    assertEquals(100 / 9 + 0 + 39 / 9, d.size()); // shard b (8 tokens) is shorter than one window
    assertArrayEquals(java.util.Arrays.copyOfRange(a, 9, 19), d.get(1));
    assertArrayEquals(java.util.Arrays.copyOfRange(c, 0, 10), d.get(11));
    boolean[] target = new boolean[a.length];
    for (int i = 0; i < 11; i++) {
      for (int j = 1; j < 10; j++) {
        int pos = i * 9 + j;
        assertTrue(!target[pos], "token " + pos + " is a target twice");
        target[pos] = true;
      }
    }
    for (int pos = 1; pos < 100; pos++) {
      assertTrue(target[pos], "token " + pos + " is never a target");
    }
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> new ShardWindowDataset(shards, 10, 100).get(0));
    assertTrue(e.getMessage().startsWith(shards.get(0).file() + ": token "), e.getMessage());
    assertTrue(e.getMessage().contains("is outside the tokenizer's vocabulary of 100"), e.getMessage());
  }

  @Test
  void bertExamplesPackWholeDocumentsAndCutLongOnes() throws IOException {
    int cls = 2;
    int sep = 3;
    // documents: [CLS] 10 11 [SEP] | [CLS] 12 [SEP] | [CLS] 20..32 [SEP] (13 tokens, longer than 8) | [CLS] 40 [SEP]
    List<Integer> stream = new ArrayList<>(List.of(cls, 10, 11, sep, cls, 12, sep, cls));
    for (int i = 20; i <= 32; i++) {
      stream.add(i);
    }
    stream.addAll(List.of(sep, cls, 40, sep));
    int[] tokens = stream.stream().mapToInt(Integer::intValue).toArray();
    TokenShard s = TokenShard.open(writeByTheDocumentedRules(tmp.resolve("bert.bin"), 20240520, 1, tokens, 2));
    PackedDocumentDataset d = new PackedDocumentDataset(List.of(s), 8, cls, sep, 100);
    List<int[]> got = new ArrayList<>();
    for (int i = 0; i < d.size(); i++) {
      got.add(d.get(i));
    }
    int[][] want = {
        {cls, 10, 11, sep, cls, 12, sep},
        {cls, 20, 21, 22, 23, 24, 25, sep},
        {cls, 26, 27, 28, 29, 30, 31, sep},
        {cls, 32, sep, cls, 40, sep}};
    assertEquals(want.length, got.size());
    for (int i = 0; i < want.length; i++) {
      assertArrayEquals(want[i], got.get(i), "example " + i);
    }
  }
}
