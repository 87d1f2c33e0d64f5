package ai.lmtrain.tokenizers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class WordPieceTokenizerTest {

  private final WordPieceTokenizer bert = TestData.bert();

  private int id(String token) {
    return bert.tokenToId(token).getAsInt();
  }

  @Test
  void referenceIds() {
    assertArrayEquals(new int[] {101, 2166, 2003, 2066, 1037, 103, 1997, 7967, 2015, 1012, 102},
        bert.encode("Life is like a [MASK] of chocolates.").ids());
    assertArrayEquals(new int[] {101, 7592, 1010, 2088, 999, 102}, bert.encode("Hello, world!").ids());
    assertArrayEquals(new int[] {101, 14477, 20961, 3468, 102}, bert.encode("unaffable").ids());
  }

  @Test
  void accentsAreStrippedAndLowercased() {
    assertArrayEquals(bert.encode("cafe resume naive").ids(), bert.encode("Café Résumé NAÏVE").ids());
  }

  @Test
  void punctuationIsIsolated() {
    String[] tokens = bert.encode("a,b.c!?(d)—e«f»", EncodeOptions.defaults().withAddSpecialTokens(false)).tokens();
    assertArrayEquals(new String[] {"a", ",", "b", ".", "c", "!", "?", "(", "d", ")", "—", "e", "«", "f", "»"}, tokens);
  }

  @Test
  void cjkCharactersAreSeparateWords() {
    String[] tokens = bert.encode("日本中文", EncodeOptions.defaults().withAddSpecialTokens(false)).tokens();
    assertArrayEquals(new String[] {"日", "本", "中", "文"}, tokens);
  }

  @Test
  void unknownWordsBecomeOneUnk() {
    int unk = id("[UNK]");
    assertArrayEquals(new int[] {101, id("hello"), unk, 102}, bert.encode("hello \u2603\u2603x").ids());
  }

  @Test
  void wordsOverOneHundredCharsAreUnk() {
    String word = "a".repeat(101);
    assertArrayEquals(new int[] {101, id("[UNK]"), 102}, bert.encode(word).ids());
    assertEquals(false, bert.encode("a".repeat(100)).ids()[1] == id("[UNK]"));
  }

  @Test
  void controlCharactersAreDropped() {
    assertArrayEquals(bert.encode("hello world").ids(), bert.encode("hel\u0000lo\u200b \tworld\uFFFD").ids());
  }

  @Test
  void pairsGetTypeIds() {
    Encoding e = bert.encodePair("Hello", "world", EncodeOptions.defaults());
    assertArrayEquals(new int[] {101, 7592, 102, 2088, 102}, e.ids());
    assertArrayEquals(new int[] {0, 0, 0, 1, 1}, e.typeIds());
    assertArrayEquals(new int[] {1, 0, 1, 0, 1}, e.specialTokensMask());
  }

  @Test
  void decodeCleansUp() {
    assertEquals("hello, world! isn't it's unaffable.",
        bert.decode(bert.encode("Hello, world! Isn't it's unaffable.").ids(), true));
    assertEquals("[CLS] hello [SEP]", bert.decode(bert.encode("hello").ids()));
  }

  @Test
  void offsetsPointIntoTheOriginalText() {
    String text = "Héllo, unaffable!";
    Encoding e = bert.encode(text, EncodeOptions.defaults().withOffsets(true));
    assertEquals("Héllo", text.substring(e.starts()[1], e.ends()[1]));
    assertEquals("una", text.substring(e.starts()[3], e.ends()[3]));
    assertEquals("ffa", text.substring(e.starts()[4], e.ends()[4]));
  }
}
