package ai.lmtrain.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Hand-computed vectors for transformers' processors and warpers. */
class LogitsProcessorTest {
  private static final float NEG_INF = Float.NEGATIVE_INFINITY;

  @Test
  void repetitionPenaltyDividesPositiveAndMultipliesNegativeScoresOncePerId() {
    float[] logits = {2f, -2f, 0.5f, 1f, 0f};
    LogitsProcessor.applyRepetitionPenalty(logits, new int[] {0, 1, 1, 4, 0}, 2f);
    assertArrayEquals(new float[] {1f, -4f, 0.5f, 1f, 0f}, logits);
  }

  @Test
  void repetitionPenaltyRejectsIdsOutsideTheVocabulary() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> LogitsProcessor.applyRepetitionPenalty(new float[3], new int[] {1, 3}, 1.2f));
    assertEquals("token id 3 is outside the vocabulary [0, 3)", e.getMessage());
  }

  @Test
  void temperatureDivides() {
    float[] logits = {1f, -2f, 3f};
    LogitsProcessor.applyTemperature(logits, 0.5f);
    assertArrayEquals(new float[] {2f, -4f, 6f}, logits);
  }

  @Test
  void aTemperatureSoSmallThatScoresOverflowKeepsTheDistributionFinite() {
    float[] logits = {1f, 3f, -2f, 3f, Float.NEGATIVE_INFINITY};
    LogitsProcessor.applyTemperature(logits, 1e-45f); // 3 / 1e-45 overflows a float
    assertArrayEquals(new float[] {Float.NEGATIVE_INFINITY, 0f, Float.NEGATIVE_INFINITY, 0f, Float.NEGATIVE_INFINITY},
        logits);
    assertArrayEquals(new double[] {0, 0.5, 0, 0.5, 0}, LogitsProcessor.softmax(logits), 0);
  }

  @Test
  void topKKeepsTiesWithTheKthValue() {
    float[] ties = {1f, 3f, 2f, 3f};
    LogitsProcessor.applyTopK(ties, 2);
    assertArrayEquals(new float[] {NEG_INF, 3f, NEG_INF, 3f}, ties);

    float[] tieAtK = {5f, 4f, 1f, 4f};
    LogitsProcessor.applyTopK(tieAtK, 2);
    assertArrayEquals(new float[] {5f, 4f, NEG_INF, 4f}, tieAtK);

    float[] three = {1f, 3f, 2f, 3f};
    LogitsProcessor.applyTopK(three, 3);
    assertArrayEquals(new float[] {NEG_INF, 3f, 2f, 3f}, three);

    float[] all = {1f, 2f};
    LogitsProcessor.applyTopK(all, 50);
    assertArrayEquals(new float[] {1f, 2f}, all);
  }

  @Test
  void topPKeepsTheSmallestSetReachingP() {
    // Probabilities 0.05, 0.5, 0.15, 0.3 (ids 0..3); by rank: id1 0.5, id3 0.3, id2 0.15, id0 0.05.
    float[] base = logitsOf(0.05, 0.5, 0.15, 0.3);

    float[] p70 = base.clone(); // above: 0 -> keep id1; 0.5 < 0.7 -> keep id3; 0.8 -> drop
    LogitsProcessor.applyTopP(p70, 0.7);
    assertArrayEquals(new float[] {NEG_INF, base[1], NEG_INF, base[3]}, p70);

    float[] p85 = base.clone(); // 0.8 < 0.85 -> keep id2 as well
    LogitsProcessor.applyTopP(p85, 0.85);
    assertArrayEquals(new float[] {NEG_INF, base[1], base[2], base[3]}, p85);

    float[] p10 = base.clone(); // the top token is always kept
    LogitsProcessor.applyTopP(p10, 0.1);
    assertArrayEquals(new float[] {NEG_INF, base[1], NEG_INF, NEG_INF}, p10);

    float[] p100 = base.clone();
    LogitsProcessor.applyTopP(p100, 1.0);
    assertArrayEquals(base, p100);
  }

  @Test
  void topPIgnoresTokensAlreadyRemovedByTopK() {
    float[] logits = {NEG_INF, 0f, 0f, NEG_INF};
    LogitsProcessor.applyTopP(logits, 0.9); // two tokens of 0.5: 0.5 < 0.9 keeps both
    assertArrayEquals(new float[] {NEG_INF, 0f, 0f, NEG_INF}, logits);
    float[] half = {NEG_INF, 0f, 0f, NEG_INF};
    LogitsProcessor.applyTopP(half, 0.5); // 0.5 reaches p: the tie goes to the lower id
    assertArrayEquals(new float[] {NEG_INF, 0f, NEG_INF, NEG_INF}, half);
  }

  @Test
  void softmaxIsStableAndZeroForRemovedTokens() {
    double[] probs = LogitsProcessor.softmax(new float[] {1000f, 1001f, NEG_INF}); // exp(1000) overflows
    assertEquals(1 / (1 + Math.E), probs[0], 1e-15);
    assertEquals(Math.E / (1 + Math.E), probs[1], 1e-15);
    assertEquals(0.0, probs[2]);
    IllegalArgumentException allRemoved = assertThrows(IllegalArgumentException.class,
        () -> LogitsProcessor.softmax(new float[] {NEG_INF, NEG_INF}));
    assertTrue(allRemoved.getMessage().contains("every logit is -inf"));
  }

  @Test
  void argmaxTakesTheLowestIdOnTies() {
    assertEquals(1, LogitsProcessor.argmax(new float[] {1f, 3f, 3f}));
    assertEquals(0, LogitsProcessor.argmax(new float[] {-0f, 0f}));
    assertEquals(2, LogitsProcessor.argmax(new float[] {NEG_INF, -5f, Float.POSITIVE_INFINITY}));
  }

  @Test
  void descendingOrderBreaksTiesByLowerId() {
    assertArrayEquals(new int[] {4, 1, 3, 2, 0, 5},
        LogitsProcessor.idsByDescendingLogit(new float[] {-7f, 2f, -0f, 2f, 9f, NEG_INF}));
  }

  @Test
  void nanAndEmptyLogitsAreRejected() {
    IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
        () -> LogitsProcessor.argmax(new float[] {1f, Float.NaN}));
    assertEquals("logits[1] is NaN (the model output is not finite)", nan.getMessage());
    assertThrows(IllegalArgumentException.class, () -> LogitsProcessor.softmax(new float[0]));
  }

  /** Logits whose softmax is exactly {@code probs} (up to float rounding). */
  static float[] logitsOf(double... probs) {
    float[] logits = new float[probs.length];
    for (int i = 0; i < probs.length; i++) {
      logits[i] = (float) Math.log(probs[i]);
    }
    return logits;
  }
}
