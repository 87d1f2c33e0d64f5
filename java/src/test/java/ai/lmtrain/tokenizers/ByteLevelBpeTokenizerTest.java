package ai.lmtrain.tokenizers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ByteLevelBpeTokenizerTest {

  private static final Encoding R50K = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
  private static final Pattern GPT2_REGEX = Pattern.compile(
      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", Pattern.UNICODE_CHARACTER_CLASS);

  private final ByteLevelBpeTokenizer gpt2 = TestData.gpt2();

  @Test
  void referenceIds() {
    assertArrayEquals(new int[] {15496, 11, 995}, gpt2.encode("Hello, world").ids());
    assertArrayEquals(new int[] {6109, 3626, 6100, 345}, gpt2.encode("Every effort moves you").ids());
    assertArrayEquals(new int[] {64, 50256, 65}, gpt2.encode("a<|endoftext|>b").ids());
    assertEquals(1, gpt2.encode("a<|endoftext|>b").specialTokensMask()[1]);
  }

  @Test
  void everyTinyShakespeareLineMatchesJtokkit() {
    List<String> lines = Utf8Lines.read(TestData.resource("ai/lmtrain/data/tinyshakespeare.txt"));
    for (String line : lines) {
      String text = line + "\n";
      assertArrayEquals(R50K.encodeOrdinary(text).toArray(), gpt2.encodeIds(text), text);
      assertEquals(text, gpt2.decode(gpt2.encodeIds(text)));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "", " ", "   ", "\t", "\n\n\n", "a  b", "a   b", "a\tb", "a \t b", "trailing   ", "trailing\n", " lead",
      "x\n y", "x \n y", "\r\n", "12345 678 3.14 1,000,000", "٣٤ ¾ Ⅻ", "don't I'm we've they're you'll he'd it's",
      "DON'T 'S 'll''s", "'s'", "naïve café résumé", "Ünïcödé ÅÄÖ", "日本語のテキスト", "中文 字符", "한국어 텍스트",
      "Привет, мир!", "مرحبا بالعالم", "emoji 😀😃👍🏽 👨‍👩‍👧 🇫🇷", "math ∑∫√ ≠ ≤", "mixed\u00a0nbsp\u2003emsp",
      "\u3000ideographic space", "tabs\t\tand  spaces  \n  newline", "!!!??? ...,,, --- ___", "a!b@c#d$e%f^",
      "zero\u200bwidth", "combining e\u0301 a\u0308", "<|endoftext", "   \n   ", "end with space "})
  void matchesJtokkitAndRoundTrips(String text) {
    assertArrayEquals(R50K.encodeOrdinary(text).toArray(), gpt2.encodeIds(text), text);
    assertEquals(text, gpt2.decode(gpt2.encodeIds(text)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"a  b\tc\n\nd  ", "x's 'll '  12a3 \u2028\u0085z", "😀 😀  é\u0301", "'\u00a0 ' ', \t\t'"})
  void preTokenizerMatchesTheRegex(String text) {
    Matcher m = GPT2_REGEX.matcher(text);
    int pos = 0;
    while (m.find()) {
      assertEquals(m.start(), pos, text);
      assertEquals(m.end(), Gpt2PreTokenizer.next(text, pos, text.length()), "at " + pos + " in " + text);
      pos = m.end();
    }
    assertEquals(text.length(), pos);
  }

  @Test
  void invalidUtf8DecodesToReplacementCharacter() {
    int id = gpt2.tokenToId(String.valueOf(ByteLevel.charOf(0xE6))).getAsInt();
    assertEquals("\uFFFD", gpt2.decode(new int[] {id}));
    int a = gpt2.tokenToId("a").getAsInt();
    assertEquals("a\uFFFDa", gpt2.decode(new int[] {a, id, a}));
  }

  @Test
  void specialTokensSkippedOnRequest() {
    int[] ids = gpt2.encodeIds("Hi<|endoftext|>");
    assertEquals("Hi<|endoftext|>", gpt2.decode(ids));
    assertEquals("Hi", gpt2.decode(ids, true));
  }

  @Test
  void offsetsPointIntoTheText() {
    String text = "Héllo wörld 😀!";
    TokenSequence s = gpt2.tokenize(text, true);
    assertEquals(0, s.starts()[0]);
    assertEquals(text.length(), s.ends()[s.length() - 1]);
    for (int i = 0; i < s.length(); i++) {
      String piece = gpt2.decode(new int[] {s.ids()[i]});
      if (!piece.contains("\uFFFD")) {
        assertEquals(piece, text.substring(s.starts()[i], s.ends()[i]), "token " + i);
      }
    }
  }

  @Test
  void encodeIdsIsTokenizeWithoutTheStrings() {
    for (String text : new String[] {"Hi<|endoftext|> there  x", "Ünïcödé ✓ 😀\n\n  end", "", " ", "a"}) {
      assertArrayEquals(gpt2.tokenize(text, false).ids(), gpt2.encodeIds(text), text);
    }
  }

  @Test
  void encodingIntoOneBufferAppendsEachTextsIds() {
    String[] texts = {"Hi<|endoftext|> there  x", "", "Ünïcödé ✓ 😀\n\n  end", "a"};
    IdBuffer buffer = new IdBuffer(1);
    buffer.add(7);
    List<Integer> expected = new java.util.ArrayList<>(List.of(7));
    for (String text : texts) {
      gpt2.encodeIds(text, buffer);
      for (int id : gpt2.encodeIds(text)) {
        expected.add(id);
      }
    }
    assertArrayEquals(expected.stream().mapToInt(Integer::intValue).toArray(), buffer.toArray());
    Tokenizer wordPiece = TestData.bert();
    IdBuffer viaDefault = new IdBuffer(4);
    wordPiece.encodeIds("hello world", viaDefault);
    assertArrayEquals(wordPiece.encodeIds("hello world"), viaDefault.toArray());
  }

  @Test
  void cacheGivesSameResultOnRepeatedWords() {
    String text = "the the the thereafter the";
    assertArrayEquals(gpt2.encodeIds(text), gpt2.encodeIds(text));
    assertArrayEquals(R50K.encodeOrdinary(text).toArray(), gpt2.encodeIds(text));
  }
}
