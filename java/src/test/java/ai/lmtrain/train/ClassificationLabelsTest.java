package ai.lmtrain.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.lmtrain.data.LabelledText;
import ai.lmtrain.models.ProblemType;
import ai.lmtrain.models.SequenceClassification;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Label sets and targets from labels as written: names or numbers, the model's labels, and the errors. */
class ClassificationLabelsTest {
  private static LabelledText row(int line, String... labels) {
    return new LabelledText("text", null, List.of(labels), "f.csv:" + line);
  }

  private static SequenceClassification fromFile(List<LabelledText> rows, Integer numLabels, ProblemType type) {
    return ClassificationLabels.head(null, rows, "label", numLabels, type, null, "base/config.json");
  }

  @Test
  void theTrainingFileGivesSortedLabelsNumericallyWhenAllAreNumbers() {
    List<LabelledText> numbers = List.of(row(2, "10"), row(3, "2"), row(4, "9"), row(5, "2"));
    SequenceClassification head = fromFile(numbers, null, null);
    assertEquals(List.of("2", "9", "10"), head.labels());
    assertEquals(ProblemType.SINGLE_LABEL, head.problemType());
    assertArrayEquals(new float[] {2}, ClassificationLabels.targets(head, row(2, "10"), "label"));
    SequenceClassification names = fromFile(List.of(row(2, "sports"), row(3, "business"), row(4, "world")), null, null);
    assertEquals(List.of("business", "sports", "world"), names.labels());
  }

  @Test
  void severalLabelsPerRowMakeAMultiLabelHead() {
    List<LabelledText> rows = List.of(row(2, "a,c"), row(3, "b"), row(4, "a", "b"));
    SequenceClassification head = fromFile(rows, null, null);
    assertEquals(ProblemType.MULTI_LABEL, head.problemType());
    assertEquals(List.of("a", "b", "c"), head.labels());
    assertArrayEquals(new float[] {1, 0, 1}, ClassificationLabels.targets(head, rows.get(0), "label"));
    assertArrayEquals(new float[] {1, 1, 0}, ClassificationLabels.targets(head, rows.get(2), "label"));
  }

  @Test
  void regressionTakesNumbers() {
    SequenceClassification head = fromFile(List.of(row(2, "0.5"), row(3, "-2")), 1, null);
    assertEquals(ProblemType.REGRESSION, head.problemType());
    assertArrayEquals(new float[] {-2}, ClassificationLabels.targets(head, row(3, "-2"), "label"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ClassificationLabels.targets(head, row(4, "high"), "label"));
    assertEquals("f.csv:4: column 'label' value 'high' is not a number (regression targets are numbers)",
        e.getMessage());
  }

  @Test
  void aClassifierBaseKeepsItsLabelsAndAcceptsIdsForLabelsWithoutNumbers() {
    SequenceClassification model = new SequenceClassification(List.of("neg", "pos"), ProblemType.SINGLE_LABEL, null,
        null);
    SequenceClassification head = ClassificationLabels.head(model, List.of(row(2, "pos")), "label", null, null, null,
        "base/config.json");
    assertEquals(model, head);
    assertArrayEquals(new float[] {1}, ClassificationLabels.targets(head, row(2, "pos"), "label"));
    assertArrayEquals(new float[] {0}, ClassificationLabels.targets(head, row(3, "0"), "label"));
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
        () -> ClassificationLabels.targets(head, row(7, "neutral"), "label"));
    assertEquals("f.csv:7: unknown label 'neutral' in column 'label' (the model's labels are [neg, pos])",
        unknown.getMessage());
    IllegalArgumentException outOfRange = assertThrows(IllegalArgumentException.class,
        () -> ClassificationLabels.targets(head, row(8, "2"), "label"));
    assertEquals("f.csv:8: unknown label '2' in column 'label' (the model's labels are [neg, pos])",
        outOfRange.getMessage());
  }

  @Test
  void labelCountMismatchesAreErrors() {
    SequenceClassification model = new SequenceClassification(List.of("neg", "pos"), ProblemType.SINGLE_LABEL, null,
        null);
    IllegalArgumentException base = assertThrows(IllegalArgumentException.class,
        () -> ClassificationLabels.head(model, List.of(row(2, "pos")), "label", 3, null, null, "base/config.json"));
    assertEquals("label count mismatch: the settings ask for num_labels 3 but base/config.json is a classifier of 2"
        + " labels [neg, pos]", base.getMessage());
    IllegalArgumentException file = assertThrows(IllegalArgumentException.class,
        () -> fromFile(List.of(row(2, "a"), row(3, "b")), 3, null));
    assertEquals("label count mismatch: the settings ask for num_labels 3 but f.csv has 2 distinct labels in column"
        + " 'label' [a, b]", file.getMessage());
    IllegalArgumentException single = assertThrows(IllegalArgumentException.class,
        () -> fromFile(List.of(row(2, "a"), row(3, "a")), null, null));
    assertEquals("f.csv: column 'label' holds only the label [a] (classification needs at least 2)",
        single.getMessage());
  }
}
