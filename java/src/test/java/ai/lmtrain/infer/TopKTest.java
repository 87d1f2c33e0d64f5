package ai.lmtrain.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class TopKTest {
  @Test
  void returnsTheMostLikelyIdsWithSoftmaxProbabilities() {
    // softmax([1, 3, 2, 3]): e^3 / (e + e^2 + 2 e^3) = 0.4309..., e^2 / ... = 0.1585...
    float[] logits = {1f, 3f, 2f, 3f};
    double sum = Math.exp(1) + Math.exp(2) + 2 * Math.exp(3);
    List<TopK.Candidate> top = TopK.of(logits, 3);
    assertEquals(List.of(1, 3, 2), top.stream().map(TopK.Candidate::id).toList());
    assertEquals(Math.exp(3) / sum, top.get(0).probability(), 1e-12);
    assertEquals(Math.exp(3) / sum, top.get(1).probability(), 1e-12);
    assertEquals(Math.exp(2) / sum, top.get(2).probability(), 1e-12);
  }

  @Test
  void kLargerThanTheVocabularyReturnsEveryId() {
    List<TopK.Candidate> all = TopK.of(new float[] {0f, (float) Math.log(3)}, 5);
    assertEquals(2, all.size());
    assertEquals(List.of(1, 0), all.stream().map(TopK.Candidate::id).toList());
    assertEquals(0.75, all.get(0).probability(), 1e-7);
    assertEquals(0.25, all.get(1).probability(), 1e-7);
  }

  @Test
  void rejectsNonPositiveK() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TopK.of(new float[] {1f}, 0));
    assertEquals("top_k must be > 0, got 0", e.getMessage());
  }
}
