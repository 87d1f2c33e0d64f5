package ai.lmtrain.tokenizers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class EncodeOptionsTest {

  private final Tokenizer bert = TestData.bert();
  private final Tokenizer gpt2 = TestData.gpt2();

  @Test
  void truncationKeepsSpecialTokens() {
    Encoding e = bert.encode("Life is like a box of chocolates.", EncodeOptions.defaults().withTruncation(5));
    assertArrayEquals(new int[] {101, 2166, 2003, 2066, 102}, e.ids());
  }

  @Test
  void pairTruncationIsLongestFirst() {
    Encoding e = bert.encodePair("a b c d e f g h", "x y", EncodeOptions.defaults().withTruncation(9));
    assertArrayEquals(new String[] {"[CLS]", "a", "b", "c", "d", "[SEP]", "x", "y", "[SEP]"}, e.tokens());
    assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0, 1, 1, 1}, e.typeIds());
  }

  @Test
  void paddingLongestAndMaxLength() {
    BatchEncoding b = bert.encodeBatch(List.of("hello", "hello world again"),
        EncodeOptions.defaults().withPadding(EncodeOptions.Padding.LONGEST, -1));
    assertArrayEquals(new int[] {101, 7592, 102, 0, 0}, b.ids()[0]);
    assertArrayEquals(new int[] {1, 1, 1, 0, 0}, b.attentionMask()[0]);
    assertArrayEquals(new int[] {1, 0, 1, 1, 1}, b.encodings().get(0).specialTokensMask());
    Encoding e = gpt2.encode("Hello", EncodeOptions.defaults().withMaxLength(4).withPadding(EncodeOptions.Padding.MAX_LENGTH, 50256));
    assertArrayEquals(new int[] {15496, 50256, 50256, 50256}, e.ids());
    assertArrayEquals(new int[] {1, 0, 0, 0}, e.attentionMask());
  }

  @Test
  void gpt2PaddingWithoutPadIdIsAnError() {
    TokenizerException ex = assertThrows(TokenizerException.class, () -> gpt2.encodeBatch(List.of("a", "b c"),
        EncodeOptions.defaults().withPadding(EncodeOptions.Padding.LONGEST, -1)));
    assertEquals("padding needs a pad id: this tokenizer has no pad token (GPT-2 convention: pass the <|endoftext|> id)", ex.getMessage());
  }

  @Test
  void overflowMakesStridedChunks() {
    int[] all = gpt2.encode("one two three four five six seven eight nine ten").ids();
    assertEquals(10, all.length);
    Encoding e = gpt2.encode("one two three four five six seven eight nine ten",
        EncodeOptions.defaults().withTruncation(4).withOverflow(1));
    assertArrayEquals(new int[] {all[0], all[1], all[2], all[3]}, e.ids());
    assertEquals(2, e.overflowing().size());
    assertArrayEquals(new int[] {all[3], all[4], all[5], all[6]}, e.overflowing().get(0).ids());
    assertArrayEquals(new int[] {all[6], all[7], all[8], all[9]}, e.overflowing().get(1).ids());
    BatchEncoding b = gpt2.encodeBatch(List.of("one two three four five six seven eight nine ten", "hi"),
        EncodeOptions.defaults().withTruncation(4).withOverflow(1));
    assertArrayEquals(new int[] {0, 0, 0, 1}, b.sampleMapping());
  }

  @Test
  void strideMustLeaveRoom() {
    TokenizerException ex = assertThrows(TokenizerException.class, () -> bert.encode("a b c d e f",
        EncodeOptions.defaults().withTruncation(4).withOverflow(2)));
    assertEquals("stride 2 must be smaller than the 2 tokens each chunk holds", ex.getMessage());
  }

  @Test
  void longestFirstMatchesHf() {
    assertArrayEquals(new int[] {3, 2}, EncodingAssembler.longestFirst(3, 2, 5));
    assertArrayEquals(new int[] {5, 2}, EncodingAssembler.longestFirst(10, 2, 7));
    assertArrayEquals(new int[] {3, 4}, EncodingAssembler.longestFirst(10, 10, 7));
  }
}
