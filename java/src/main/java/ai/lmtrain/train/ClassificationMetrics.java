package ai.lmtrain.train;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * How well a sequence classifier did on a labelled set: accuracy, precision / recall / F1 per label
 * and their unweighted (macro) means, and for single-label classification the confusion matrix.
 * Precision, recall or F1 of a label with no predictions or no examples is 0, as scikit-learn
 * reports it ({@code zero_division=0}).
 *
 * @param labels the label names, in id order
 * @param accuracy share of examples predicted exactly (multi-label: every label of the example right)
 * @param precision per label: true positives / predicted positives
 * @param recall per label: true positives / actual positives
 * @param f1 per label: harmonic mean of precision and recall
 * @param support per label: examples that carry it
 * @param macroPrecision mean of the per-label precisions
 * @param macroRecall mean of the per-label recalls
 * @param macroF1 mean of the per-label F1 scores
 * @param confusionMatrix single-label: [true label][predicted label] counts; null for multi-label
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ClassificationMetrics(
    @JsonProperty("labels") List<String> labels,
    @JsonProperty("accuracy") double accuracy,
    @JsonProperty("precision") double[] precision,
    @JsonProperty("recall") double[] recall,
    @JsonProperty("f1") double[] f1,
    @JsonProperty("support") long[] support,
    @JsonProperty("macro_precision") double macroPrecision,
    @JsonProperty("macro_recall") double macroRecall,
    @JsonProperty("macro_f1") double macroF1,
    @JsonProperty("confusion_matrix") long[][] confusionMatrix) {

  /**
   * Metrics of single-label predictions.
   *
   * @param confusion [true][predicted] counts over the label ids
   */
  public static ClassificationMetrics singleLabel(List<String> labels, long[][] confusion) {
    int n = labels.size();
    long[] truePositives = new long[n];
    long[] predicted = new long[n];
    long[] actual = new long[n];
    long correct = 0;
    long total = 0;
    for (int t = 0; t < n; t++) {
      for (int p = 0; p < n; p++) {
        long c = confusion[t][p];
        actual[t] += c;
        predicted[p] += c;
        total += c;
        if (t == p) {
          truePositives[t] += c;
          correct += c;
        }
      }
    }
    return of(labels, total == 0 ? 0 : correct / (double) total, truePositives, predicted, actual, confusion);
  }

  /**
   * Metrics of multi-label predictions from per-label counts.
   *
   * @param exactMatches examples whose predicted label set equals the true one
   * @param examples examples evaluated
   */
  public static ClassificationMetrics multiLabel(List<String> labels, long[] truePositives, long[] predicted,
      long[] actual, long exactMatches, long examples) {
    return of(labels, examples == 0 ? 0 : exactMatches / (double) examples, truePositives, predicted, actual, null);
  }

  private static ClassificationMetrics of(List<String> labels, double accuracy, long[] truePositives, long[] predicted,
      long[] actual, long[][] confusion) {
    int n = labels.size();
    double[] precision = new double[n];
    double[] recall = new double[n];
    double[] f1 = new double[n];
    for (int i = 0; i < n; i++) {
      precision[i] = predicted[i] == 0 ? 0 : truePositives[i] / (double) predicted[i];
      recall[i] = actual[i] == 0 ? 0 : truePositives[i] / (double) actual[i];
      f1[i] = precision[i] + recall[i] == 0 ? 0 : 2 * precision[i] * recall[i] / (precision[i] + recall[i]);
    }
    return new ClassificationMetrics(List.copyOf(labels), accuracy, precision, recall, f1, actual.clone(),
        mean(precision), mean(recall), mean(f1), confusion);
  }

  private static double mean(double[] values) {
    double sum = 0;
    for (double v : values) {
      sum += v;
    }
    return sum / values.length;
  }

  /** A table for the terminal: per-label precision, recall, F1, support, then the confusion matrix. */
  public String describe() {
    StringBuilder sb = new StringBuilder();
    int width = Math.max(8, labels.stream().mapToInt(String::length).max().orElse(0) + 2);
    sb.append(String.format("%-" + width + "s %9s %9s %9s %9s%n", "label", "precision", "recall", "f1", "support"));
    for (int i = 0; i < labels.size(); i++) {
      sb.append(String.format("%-" + width + "s %9.4f %9.4f %9.4f %9d%n", labels.get(i), precision[i], recall[i], f1[i],
          support[i]));
    }
    sb.append(String.format("%-" + width + "s %9.4f %9.4f %9.4f%n", "macro", macroPrecision, macroRecall, macroF1));
    sb.append(String.format("accuracy %.4f%n", accuracy));
    if (confusionMatrix != null) {
      sb.append("confusion matrix (rows: true label, columns: predicted):\n");
      sb.append(String.format("%-" + width + "s", ""));
      for (String label : labels) {
        sb.append(String.format(" %" + width + "s", label));
      }
      sb.append('\n');
      for (int t = 0; t < labels.size(); t++) {
        sb.append(String.format("%-" + width + "s", labels.get(t)));
        for (long c : confusionMatrix[t]) {
          sb.append(String.format(" %" + width + "d", c));
        }
        sb.append('\n');
      }
    }
    return sb.toString();
  }
}
