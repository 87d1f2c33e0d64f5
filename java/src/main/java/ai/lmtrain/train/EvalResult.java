package ai.lmtrain.train;

import java.util.Locale;
import java.util.Set;

/**
 * Evaluation over a whole split.
 *
 * @param loss mean loss over all scored positions (each position weighs the same) or, for a
 *     classifier, over all examples
 * @param perplexity exp(loss); NaN for a classifier
 * @param accuracy share of scored positions whose argmax equals the label (MLM accuracy for BERT,
 *     next-token accuracy for GPT-2), or of examples classified exactly; NaN for regression
 * @param scoredPositions positions (or examples) that took a loss
 * @param classification a classifier's metrics, or null for a language model or regression
 */
public record EvalResult(double loss, double perplexity, double accuracy, long scoredPositions,
    ClassificationMetrics classification) {

  /** Names {@link #metric} knows: loss, perplexity and accuracy, and for classifiers the macro scores. */
  public static final Set<String> METRIC_NAMES = Set.of("loss", "perplexity", "accuracy", "f1", "precision", "recall");

  /** A language model's result (no classification metrics). */
  public EvalResult(double loss, double perplexity, double accuracy, long scoredPositions) {
    this(loss, perplexity, accuracy, scoredPositions, null);
  }

  /**
   * The value of a metric by its Hugging Face name, with or without the "eval_" prefix: loss,
   * perplexity, accuracy, and for classifiers f1, precision and recall (macro averages).
   *
   * @throws IllegalArgumentException for an unknown name or one this result does not have
   */
  public double metric(String name) {
    double value = switch (metricKey(name)) {
      case "loss" -> loss;
      case "perplexity" -> perplexity;
      case "accuracy" -> accuracy;
      case "f1" -> classification == null ? Double.NaN : classification.macroF1();
      case "precision" -> classification == null ? Double.NaN : classification.macroPrecision();
      case "recall" -> classification == null ? Double.NaN : classification.macroRecall();
      default -> throw new IllegalArgumentException("unknown metric '" + name + "' (expected one of " + METRIC_NAMES
          + ", optionally prefixed with eval_)");
    };
    if (Double.isNaN(value) && !Double.isNaN(loss)) {
      throw new IllegalArgumentException("metric '" + name + "' does not apply to this evaluation");
    }
    return value;
  }

  /** A metric name in lower case without Hugging Face's optional "eval_" prefix (and "macro_"). */
  public static String metricKey(String name) {
    String key = name.toLowerCase(Locale.ROOT);
    key = key.startsWith("eval_") ? key.substring(5) : key;
    return key.startsWith("macro_") ? key.substring(6) : key;
  }
}
