package ai.lmtrain.train;

import java.util.Locale;
import java.util.Set;

/**
 * Evaluation over a whole split.
 *
 * @param loss mean loss over all scored positions (each position weighs the same) or, for a
 *     classifier, over all examples; with a sentence-pair task, the masked-LM loss plus the
 *     sentence-pair loss (Hugging Face's BertForPreTraining loss)
 * @param perplexity exp(loss) (with a sentence-pair task: exp(masked-LM loss)); NaN for a classifier
 * @param accuracy share of scored positions whose argmax equals the label (MLM accuracy for BERT,
 *     next-token accuracy for GPT-2), or of examples classified exactly; NaN for regression
 * @param scoredPositions positions (or examples) that took a loss
 * @param classification a classifier's metrics, or null for a language model or regression
 * @param sentencePair the sentence-pair task's metrics of a BERT pre-trained with NSP or SOP, or null
 */
public record EvalResult(double loss, double perplexity, double accuracy, long scoredPositions,
    ClassificationMetrics classification, SentencePairMetrics sentencePair) {

  /**
   * Names {@link #metric} knows: loss, perplexity and accuracy; for classifiers the macro scores;
   * with a sentence-pair task mlm_loss and nsp_loss / nsp_accuracy (or sop_loss / sop_accuracy).
   */
  public static final Set<String> METRIC_NAMES = Set.of("loss", "perplexity", "accuracy", "f1", "precision", "recall",
      "mlm_loss", "nsp_loss", "nsp_accuracy", "sop_loss", "sop_accuracy");

  /** A language model's result (no classification metrics). */
  public EvalResult(double loss, double perplexity, double accuracy, long scoredPositions) {
    this(loss, perplexity, accuracy, scoredPositions, null, null);
  }

  /** A result without sentence-pair metrics. */
  public EvalResult(double loss, double perplexity, double accuracy, long scoredPositions,
      ClassificationMetrics classification) {
    this(loss, perplexity, accuracy, scoredPositions, classification, null);
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
      case "mlm_loss" -> sentencePair == null ? Double.NaN : sentencePair.mlmLoss();
      case "nsp_loss", "sop_loss" -> sentencePairMetric(name, sentencePair == null ? Double.NaN : sentencePair.loss());
      case "nsp_accuracy", "sop_accuracy" -> sentencePairMetric(name,
          sentencePair == null ? Double.NaN : sentencePair.accuracy());
      default -> throw new IllegalArgumentException("unknown metric '" + name + "' (expected one of " + METRIC_NAMES
          + ", optionally prefixed with eval_)");
    };
    if (Double.isNaN(value) && !Double.isNaN(loss)) {
      throw new IllegalArgumentException("metric '" + name + "' does not apply to this evaluation");
    }
    return value;
  }

  /** {@code value} when the metric's task prefix (nsp_ / sop_) is this result's task, else NaN. */
  private double sentencePairMetric(String name, double value) {
    return sentencePair != null && metricKey(name).startsWith(sentencePair.task() + "_") ? value : Double.NaN;
  }

  /** A metric name in lower case without Hugging Face's optional "eval_" prefix (and "macro_"). */
  public static String metricKey(String name) {
    String key = name.toLowerCase(Locale.ROOT);
    key = key.startsWith("eval_") ? key.substring(5) : key;
    return key.startsWith("macro_") ? key.substring(6) : key;
  }
}
