package ai.lmtrain.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SamplerTest {
  private static final int[] NO_CONTEXT = {};
  private static final int DRAWS = 20_000;

  @Test
  void greedyTakesTheArgmaxAndLeavesTheLogitsUntouched() {
    float[] logits = {0.5f, 2f, 2f, -1f};
    assertEquals(1, new Sampler(SamplingConfig.greedy()).next(logits, NO_CONTEXT));
    assertArrayEquals(new float[] {0.5f, 2f, 2f, -1f}, logits);
  }

  @Test
  void repetitionPenaltyAppliesInGreedyDecoding() {
    Sampler sampler = new Sampler(SamplingConfig.greedy().withRepetitionPenalty(2f));
    assertEquals(1, sampler.next(new float[] {2f, 1.5f}, new int[] {0})); // 2/2 = 1 < 1.5
    assertEquals(1, sampler.next(new float[] {-1f, -1.5f}, new int[] {0})); // -1*2 = -2 < -1.5
    assertEquals(0, sampler.next(new float[] {2f, 1.5f}, new int[] {1})); // 1.5/2
  }

  @Test
  void samplingFollowsTheProcessedDistribution() {
    // Logits [1,2,3,4], T=2 -> [0.5,1,1.5,2]; top_k 3 drops id 0; probabilities of ids 1..3 are
    // e^1, e^1.5, e^2 over their sum = 0.1863, 0.3072, 0.5065; top_p 0.6 keeps id 3 (above 0) and
    // id 2 (above 0.5065 < 0.6), drops id 1 (above 0.8137). Result: ids 2, 3 with e^1.5 : e^2.
    float[] processed = {1f, 2f, 3f, 4f};
    LogitsProcessor.applyTemperature(processed, 2f);
    LogitsProcessor.applyTopK(processed, 3);
    LogitsProcessor.applyTopP(processed, 0.6);
    float negInf = Float.NEGATIVE_INFINITY;
    assertArrayEquals(new float[] {negInf, negInf, 1.5f, 2f}, processed);

    Sampler sampler = new Sampler(SamplingConfig.sampling(7).withTemperature(2f).withTopK(3).withTopP(0.6f));
    int[] counts = new int[4];
    for (int i = 0; i < DRAWS; i++) {
      counts[sampler.next(new float[] {1f, 2f, 3f, 4f}, NO_CONTEXT)]++;
    }
    double expectedId2 = Math.exp(1.5) / (Math.exp(1.5) + Math.exp(2));
    assertEquals(0, counts[0]);
    assertEquals(0, counts[1]);
    assertEquals(expectedId2, counts[2] / (double) DRAWS, 0.015); // 0.3775; ~5 sigma
  }

  @Test
  void plainSamplingMatchesTheSoftmax() {
    Sampler sampler = new Sampler(SamplingConfig.sampling(123));
    float[] logits = LogitsProcessorTest.logitsOf(0.5, 0.3, 0.2);
    int[] counts = new int[3];
    for (int i = 0; i < DRAWS; i++) {
      counts[sampler.next(logits, NO_CONTEXT)]++;
    }
    assertEquals(0.5, counts[0] / (double) DRAWS, 0.02);
    assertEquals(0.3, counts[1] / (double) DRAWS, 0.02);
    assertEquals(0.2, counts[2] / (double) DRAWS, 0.02);
  }

  @Test
  void theSameSeedReplaysTheSameTokens() {
    float[] uniform = new float[100];
    List<Integer> first = draws(new Sampler(SamplingConfig.sampling(42).withTopK(0)), uniform);
    List<Integer> again = draws(new Sampler(SamplingConfig.sampling(42).withTopK(0)), uniform);
    List<Integer> other = draws(new Sampler(SamplingConfig.sampling(43).withTopK(0)), uniform);
    assertEquals(first, again);
    assertNotEquals(first, other);
  }

  @Test
  void topKOfOneIsGreedy() {
    Sampler sampler = new Sampler(SamplingConfig.sampling(5).withTopK(1));
    for (int i = 0; i < 100; i++) {
      assertEquals(2, sampler.next(new float[] {1f, 2f, 2.5f, -3f}, NO_CONTEXT));
    }
  }

  @Test
  void badLogitsAndConfigsAreRejected() {
    Sampler sampler = new Sampler(SamplingConfig.sampling(1));
    assertThrows(IllegalArgumentException.class, () -> sampler.next(new float[] {Float.NaN, 1f}, NO_CONTEXT));
    IllegalArgumentException temperature = assertThrows(IllegalArgumentException.class,
        () -> SamplingConfig.sampling(1).withTemperature(0f));
    assertTrue(temperature.getMessage().startsWith("temperature must be a finite number > 0, got 0.0"));
    assertThrows(IllegalArgumentException.class, () -> SamplingConfig.sampling(1).withTopK(-1));
    IllegalArgumentException topP = assertThrows(IllegalArgumentException.class,
        () -> SamplingConfig.sampling(1).withTopP(0f));
    assertTrue(topP.getMessage().startsWith("top_p must be in (0, 1]"));
    assertThrows(IllegalArgumentException.class, () -> SamplingConfig.sampling(1).withTopP(1.5f));
    assertThrows(IllegalArgumentException.class, () -> SamplingConfig.greedy().withRepetitionPenalty(0f));
  }

  private static List<Integer> draws(Sampler sampler, float[] logits) {
    return java.util.stream.IntStream.range(0, 50).mapToObj(i -> sampler.next(logits, NO_CONTEXT)).toList();
  }
}
