package ai.lmtrain.tokenizers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerFilesTest {

  private static final List<String> SAMPLES = List.of("Hello, world!", "Life is like a [MASK] of chocolates.",
      "naïve café 😀 中文 a<|endoftext|>b", "  spaces\tand\nnewlines  ", "unaffable don't");

  private static void assertSameEncodings(Tokenizer a, Tokenizer b) {
    assertEquals(a.vocabSize(), b.vocabSize());
    for (String s : SAMPLES) {
      assertArrayEquals(a.encode(s).ids(), b.encode(s).ids(), s);
      assertArrayEquals(a.encodePair(s, s, EncodeOptions.defaults()).typeIds(), b.encodePair(s, s, EncodeOptions.defaults()).typeIds());
    }
    assertEquals(a.specialTokens(), b.specialTokens());
  }

  @Test
  void bertRoundTripThroughTokenizerJsonAndVocabTxt(@TempDir Path dir) throws Exception {
    Tokenizer bert = TestData.bert();
    bert.save(dir);
    assertTrue(Files.exists(dir.resolve("vocab.txt")) && Files.exists(dir.resolve("tokenizer_config.json")));
    assertSameEncodings(bert, Tokenizers.load(dir));
    assertSameEncodings(bert, Tokenizers.load(dir.resolve("tokenizer.json")));
    assertSameEncodings(bert, Tokenizers.load(dir.resolve("vocab.txt")));
    Files.delete(dir.resolve("tokenizer.json"));
    assertSameEncodings(bert, Tokenizers.load(dir));
  }

  @Test
  void gpt2RoundTripThroughTokenizerJsonAndVocabJson(@TempDir Path dir) throws Exception {
    Tokenizer gpt2 = TestData.gpt2();
    gpt2.save(dir);
    assertSameEncodings(gpt2, Tokenizers.load(dir));
    assertSameEncodings(gpt2, Tokenizers.load(dir.resolve("vocab.json")));
    Files.delete(dir.resolve("tokenizer.json"));
    assertSameEncodings(gpt2, Tokenizers.load(dir));
    assertSameEncodings(gpt2, Tokenizers.load(TestData.resource("ai/lmtrain/tokenizers/gpt2/vocab.json").getParent()));
  }

  @Test
  void tokenizerJsonHasTheHfSchema(@TempDir Path dir) throws Exception {
    TestData.gpt2().save(dir);
    var root = VocabFiles.JSON.readTree(dir.resolve("tokenizer.json").toFile());
    assertEquals("BPE", root.at("/model/type").asText());
    assertEquals("ByteLevel", root.at("/pre_tokenizer/type").asText());
    assertEquals("Ġ t", root.at("/model/merges/0").asText());
    assertEquals(50256, root.at("/added_tokens/0/id").asInt());
    TestData.bert().save(dir);
    root = VocabFiles.JSON.readTree(dir.resolve("tokenizer.json").toFile());
    assertEquals("WordPiece", root.at("/model/type").asText());
    assertEquals("BertNormalizer", root.at("/normalizer/type").asText());
    assertEquals("[CLS]", root.at("/post_processor/single/0/SpecialToken/id").asText());
    assertEquals(1, root.at("/post_processor/pair/3/Sequence/type_id").asInt());
  }

  @Test
  void mergesAcceptedAsStringsOrPairs(@TempDir Path dir) throws Exception {
    String vocab = "{\"a\":0,\"b\":1,\"ab\":2}";
    String bytes = byteVocab();
    for (String merges : new String[] {"[\"a b\"]", "[[\"a\",\"b\"]]"}) {
      String json = "{\"added_tokens\":[],\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false},"
          + "\"model\":{\"type\":\"BPE\",\"vocab\":" + bytes + ",\"merges\":" + merges + "}}";
      Path file = Files.writeString(dir.resolve("tokenizer.json"), json);
      Tokenizer tok = Tokenizers.load(file);
      assertArrayEquals(new int[] {256, 0}, tok.encode("aba").ids(), merges + " with " + vocab);
    }
  }

  /** The 256 byte tokens ('a' and 'b' first), then "ab". */
  private static String byteVocab() {
    StringBuilder sb = new StringBuilder("{");
    String alphabet = ByteLevel.alphabet();
    String ordered = "ab" + alphabet.replace("a", "").replace("b", "");
    for (int i = 0; i < ordered.length(); i++) {
      sb.append(VocabFiles.JSON.getNodeFactory().textNode(String.valueOf(ordered.charAt(i)))).append(':').append(i).append(',');
    }
    return sb.append("\"ab\":256}").toString();
  }

  @Test
  void missingAndCorruptFilesGiveClearErrors(@TempDir Path dir) throws Exception {
    assertEquals(dir.resolve("nope") + ": no such file or folder",
        assertThrows(TokenizerException.class, () -> Tokenizers.load(dir.resolve("nope"))).getMessage());
    assertEquals(dir + ": expected a folder with tokenizer.json, vocab.json + merges.txt, or vocab.txt",
        assertThrows(TokenizerException.class, () -> Tokenizers.load(dir)).getMessage());
    Path bad = Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": ");
    assertTrue(assertThrows(TokenizerException.class, () -> Tokenizers.load(bad)).getMessage()
        .startsWith(bad + ": not valid JSON"));
    Files.writeString(bad, "{\"model\":{\"type\":\"Unigram\",\"vocab\":{}}}");
    assertEquals(bad + ": model.type is 'Unigram', expected WordPiece or BPE",
        assertThrows(TokenizerException.class, () -> Tokenizers.load(bad)).getMessage());
    Path merges = Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\nĠ t\nbroken\n");
    Files.copy(TestData.resource("ai/lmtrain/tokenizers/gpt2/vocab.json"), dir.resolve("vocab.json"));
    Files.delete(bad);
    assertEquals(merges + ":3: expected a merge 'left right' (two tokens separated by one space), got 'broken'",
        assertThrows(TokenizerException.class, () -> Tokenizers.load(dir)).getMessage());
    Path vocabTxt = Files.writeString(dir.resolve("v.txt"), "[UNK]\na\na\n");
    assertEquals(vocabTxt + ":3: duplicate token 'a' (first on line 2); expected one distinct token per line",
        assertThrows(TokenizerException.class, () -> Tokenizers.load(vocabTxt)).getMessage());
  }
}
