package ai.lmtrain.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Accuracy, per-label precision / recall / F1 and their macro means against values worked out by
 * hand (the definitions of scikit-learn's classification_report, zero_division=0).
 */
class ClassificationMetricsTest {
  @Test
  void singleLabelMetricsFromAConfusionMatrix() {
    // true a: 5 (4 right, 1 as b); true b: 3 (1 as a, 2 right); true c: 2 (both as b); c is never predicted.
    long[][] confusion = {{4, 1, 0}, {1, 2, 0}, {0, 2, 0}};
    ClassificationMetrics m = ClassificationMetrics.singleLabel(List.of("a", "b", "c"), confusion);
    assertEquals(0.6, m.accuracy(), 1e-12);
    assertArrayEquals(new double[] {0.8, 0.4, 0}, m.precision(), 1e-12);
    assertArrayEquals(new double[] {0.8, 2.0 / 3, 0}, m.recall(), 1e-12);
    assertArrayEquals(new double[] {0.8, 0.5, 0}, m.f1(), 1e-12);
    assertArrayEquals(new long[] {5, 3, 2}, m.support());
    assertEquals(0.4, m.macroPrecision(), 1e-12);
    assertEquals((0.8 + 2.0 / 3) / 3, m.macroRecall(), 1e-12);
    assertEquals(1.3 / 3, m.macroF1(), 1e-12);
    EvalResult r = new EvalResult(0.7, Double.NaN, m.accuracy(), 10, m);
    assertEquals(1.3 / 3, r.metric("eval_f1"), 1e-12);
    assertEquals(0.6, r.metric("accuracy"), 1e-12);
    assertThrows(IllegalArgumentException.class, () -> r.metric("perplexity"));
    assertThrows(IllegalArgumentException.class, () -> r.metric("bleu"));
  }

  @Test
  void multiLabelMetricsCountEachLabelAndExactMatches() {
    ClassificationMetrics m = ClassificationMetrics.multiLabel(List.of("x", "y"), new long[] {3, 0},
        new long[] {4, 1}, new long[] {3, 2}, 2, 5);
    assertEquals(0.4, m.accuracy(), 1e-12);
    assertArrayEquals(new double[] {0.75, 0}, m.precision(), 1e-12);
    assertArrayEquals(new double[] {1, 0}, m.recall(), 1e-12);
    assertEquals(null, m.confusionMatrix());
  }
}
