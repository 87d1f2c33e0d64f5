package ai.lmtrain.tokenizers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The capped pre-token counts behind streaming tokenizer training. */
class PreTokenCountsTest {

  @Test
  void exactBelowTheCapAndFrequentWordsSurvivePruning() {
    PreTokenCounts exact = new PreTokenCounts(100);
    for (int i = 0; i < 50; i++) {
      exact.add("w" + (i % 10));
    }
    assertEquals(0, exact.prunes());
    assertEquals(5L, exact.sorted().get("w3"));

    PreTokenCounts capped = new PreTokenCounts(40);
    for (int round = 0; round < 20; round++) {
      capped.add("the");
      capped.add("lion");
      for (int k = 0; k < 10; k++) {
        capped.add("rare" + round + "_" + k); // 200 words seen once
      }
    }
    Map<String, Long> counts = capped.sorted();
    assertTrue(capped.prunes() > 0);
    assertEquals(1, capped.pruneThreshold());
    assertEquals(20L, counts.get("the"));
    assertEquals(20L, counts.get("lion"));
    assertTrue(counts.size() <= 40, counts.size() + " words held");
  }

  @Test
  void aTinyCapStillTrainsAVocabulary() {
    TokenizerTrainer.Trained<ByteLevelBpeTokenizer> t = TokenizerTrainer.trainByteLevelBpe(
        sink -> ai.lmtrain.data.TextSource.bundledLines("tinyshakespeare.txt").forEach(sink), "tinyshakespeare",
        TrainerOptions.byteLevelBpe(400), 500);
    assertTrue(t.prunes() > 0);
    assertEquals(400, t.tokenizer().vocabSize());
    String line = "First Citizen: We are accounted poor citizens.";
    assertEquals(line, t.tokenizer().decode(t.tokenizer().encode(line).ids()));
  }
}
