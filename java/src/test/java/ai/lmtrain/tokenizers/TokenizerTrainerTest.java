package ai.lmtrain.tokenizers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerTrainerTest {

  private static final Path TOY = TestData.resource("ai/lmtrain/data/toy_corpus.txt");
  private static final Path SHAKESPEARE = TestData.resource("ai/lmtrain/data/tinyshakespeare.txt");

  @Test
  void bpeSpecialsFirstSizeReachedAndLinesRoundTrip() {
    ByteLevelBpeTokenizer tok = TokenizerTrainer.trainByteLevelBpe(List.of(SHAKESPEARE), TrainerOptions.byteLevelBpe(2000));
    assertEquals(2000, tok.vocabSize());
    assertEquals("<|endoftext|>", tok.idToToken(0));
    assertEquals(1999 - 256, tok.merges().size());
    for (String line : Utf8Lines.read(SHAKESPEARE)) {
      assertEquals(line, tok.decode(tok.encodeIds(line)));
    }
    assertMergesConsistent(tok);
  }

  @Test
  void bpeStopsWhenPairsRunOut() {
    ByteLevelBpeTokenizer tok = TokenizerTrainer.trainByteLevelBpe(List.of(TOY), TrainerOptions.byteLevelBpe(100_000));
    assertTrue(tok.vocabSize() < 100_000, "corpus exhausted before the target size");
    for (String line : Utf8Lines.read(TOY)) {
      assertEquals(line, tok.decode(tok.encodeIds(line)));
    }
    assertMergesConsistent(tok);
  }

  @Test
  void minFrequencyStopsMerging() {
    ByteLevelBpeTokenizer all = TokenizerTrainer.trainByteLevelBpe(List.of(TOY), TrainerOptions.byteLevelBpe(5000).withMinFrequency(1));
    ByteLevelBpeTokenizer frequent = TokenizerTrainer.trainByteLevelBpe(List.of(TOY), TrainerOptions.byteLevelBpe(5000).withMinFrequency(5));
    assertTrue(frequent.merges().size() < all.merges().size());
  }

  private static void assertMergesConsistent(ByteLevelBpeTokenizer tok) {
    List<String[]> merges = tok.merges();
    for (int r = 0; r < merges.size(); r++) {
      String merged = merges.get(r)[0] + merges.get(r)[1];
      assertTrue(tok.tokenToId(merged).isPresent(), "merge result in vocab: " + merged);
      assertTrue(tok.tokenToId(merges.get(r)[0]).getAsInt() < tok.tokenToId(merged).getAsInt());
    }
  }

  @Test
  void wordPieceSpecialsFirstAndWordsRecoverable() {
    WordPieceTokenizer tok = TokenizerTrainer.trainWordPiece(List.of(SHAKESPEARE), TrainerOptions.wordPiece(3000));
    assertEquals(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"),
        List.of(tok.idToToken(0), tok.idToToken(1), tok.idToToken(2), tok.idToToken(3), tok.idToToken(4)));
    assertTrue(tok.vocabSize() >= 3000);
    BertNormalizer normalizer = BertNormalizer.uncased();
    for (String line : Utf8Lines.read(SHAKESPEARE)) {
      Encoding e = tok.encode(line, EncodeOptions.defaults().withAddSpecialTokens(false));
      List<String> words = new ArrayList<>();
      String norm = normalizer.normalize(line);
      BertPreTokenizer.split(norm, (s, t) -> words.add(norm.substring(s, t)));
      StringBuilder joined = new StringBuilder();
      for (String t : e.tokens()) {
        joined.append(t.startsWith("##") ? t.substring(2) : (joined.length() > 0 ? " " : "") + t);
      }
      assertEquals(String.join(" ", words), joined.toString(), line);
    }
  }

  @Test
  void vocabSizeBelowAlphabetIsAnError() {
    TokenizerException e = assertThrows(TokenizerException.class,
        () -> TokenizerTrainer.trainByteLevelBpe(List.of(TOY), TrainerOptions.byteLevelBpe(100)));
    assertEquals("vocab size 100 is below the 1 special tokens + 256 alphabet characters (need at least 257)", e.getMessage());
  }

  @Test
  void emptyCorpusIsAnError(@TempDir Path dir) throws Exception {
    Path empty = Files.writeString(dir.resolve("empty.txt"), "\n\n");
    TokenizerException e = assertThrows(TokenizerException.class,
        () -> TokenizerTrainer.trainWordPiece(List.of(empty), TrainerOptions.wordPiece(100)));
    assertTrue(e.getMessage().endsWith("the corpus is empty, expected UTF-8 text"), e.getMessage());
  }

  @Test
  void invalidUtf8IsAnErrorNamingTheLine(@TempDir Path dir) throws Exception {
    Path bad = dir.resolve("bad.txt");
    Files.write(bad, new byte[] {'o', 'k', '\n', 'b', (byte) 0xC3, '(', '\n'});
    TokenizerException e = assertThrows(TokenizerException.class,
        () -> TokenizerTrainer.trainByteLevelBpe(List.of(bad), TrainerOptions.byteLevelBpe(300)));
    assertEquals(bad + ":2: invalid UTF-8 (expected a UTF-8 text file)", e.getMessage());
  }

  @Test
  void missingCorpusIsAnError() {
    TokenizerException e = assertThrows(TokenizerException.class,
        () -> TokenizerTrainer.trainByteLevelBpe(List.of(Path.of("no/such.txt")), TrainerOptions.byteLevelBpe(300)));
    assertEquals("no/such.txt: no such file", e.getMessage());
  }
}
