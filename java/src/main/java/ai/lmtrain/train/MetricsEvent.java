package ai.lmtrain.train;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * One line of metrics.jsonl: a training or evaluation measurement of one run at one optimizer
 * step. Optional values are null when they do not apply (no mlm_accuracy for GPT-2, no grad_norm
 * for eval) and are then left out of the JSON line.
 *
 * @param run the run name ("bert", "gpt2", ...), so several runs can share a file or a plot
 * @param step optimizer steps completed
 * @param epoch fractional epoch, or null
 * @param split train or eval
 * @param loss mean cross-entropy (nats) over the non-ignored tokens, or null
 * @param perplexity exp(loss), or null
 * @param lr learning rate used for the step, or null
 * @param gradNorm global L2 norm of the gradients before clipping, or null
 * @param tokensSeen input tokens processed since the start of training, or null
 * @param tokensPerS training throughput, or null
 * @param mlmAccuracy fraction of masked positions predicted exactly (BERT), or null
 * @param classification a classifier's evaluation (accuracy, per-label precision / recall / F1,
 *     confusion matrix), or null
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record MetricsEvent(
    @JsonProperty("run") String run,
    @JsonProperty("step") long step,
    @JsonProperty("epoch") Double epoch,
    @JsonProperty("split") Split split,
    @JsonProperty("loss") Double loss,
    @JsonProperty("perplexity") Double perplexity,
    @JsonProperty("lr") Double lr,
    @JsonProperty("grad_norm") Double gradNorm,
    @JsonProperty("tokens_seen") Long tokensSeen,
    @JsonProperty("tokens_per_s") Double tokensPerS,
    @JsonProperty("mlm_accuracy") Double mlmAccuracy,
    @JsonProperty("classification") ClassificationMetrics classification) {

  /** Which data a measurement comes from. */
  public enum Split {
    /** Training batches. */
    TRAIN,
    /** The held-out validation set. */
    EVAL;

    /** The JSON value: "train" or "eval". */
    @JsonValue
    public String jsonName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * Validates the identifying fields.
   *
   * @throws IllegalArgumentException for a blank run, a negative step or a null split
   */
  public MetricsEvent {
    if (run == null || run.isBlank()) {
      throw new IllegalArgumentException("metrics event needs a non-blank 'run'");
    }
    if (step < 0) {
      throw new IllegalArgumentException("metrics event 'step' must be >= 0, got " + step);
    }
    if (split == null) {
      throw new IllegalArgumentException("metrics event needs a 'split' (train or eval)");
    }
  }

  /** Starts a training-split event of {@code run} at {@code step}. */
  public static Builder train(String run, long step) {
    return new Builder(run, step, Split.TRAIN);
  }

  /** Starts an eval-split event of {@code run} at {@code step}. */
  public static Builder eval(String run, long step) {
    return new Builder(run, step, Split.EVAL);
  }

  /** Collects the optional values of one event. */
  public static final class Builder {
    private final String run;
    private final long step;
    private final Split split;
    private Double epoch;
    private Double loss;
    private Double lr;
    private Double gradNorm;
    private Long tokensSeen;
    private Double tokensPerS;
    private Double mlmAccuracy;
    private ClassificationMetrics classification;

    private Builder(String run, long step, Split split) {
      this.run = run;
      this.step = step;
      this.split = split;
    }

    /** Fractional epoch. */
    public Builder epoch(double value) {
      epoch = value;
      return this;
    }

    /** Mean loss (language models: cross-entropy in nats; perplexity is recorded as exp(loss)). */
    public Builder loss(double value) {
      loss = value;
      return this;
    }

    /** Learning rate. */
    public Builder lr(double value) {
      lr = value;
      return this;
    }

    /** Gradient L2 norm before clipping. */
    public Builder gradNorm(double value) {
      gradNorm = value;
      return this;
    }

    /** Tokens processed since the start of training. */
    public Builder tokensSeen(long value) {
      tokensSeen = value;
      return this;
    }

    /** Training throughput in tokens per second. */
    public Builder tokensPerS(double value) {
      tokensPerS = value;
      return this;
    }

    /** Masked-LM accuracy in [0, 1]. */
    public Builder mlmAccuracy(double value) {
      mlmAccuracy = value;
      return this;
    }

    /** A classifier's evaluation; such an event has no perplexity. */
    public Builder classification(ClassificationMetrics value) {
      classification = value;
      return this;
    }

    /** The event. */
    public MetricsEvent build() {
      Double perplexity = loss == null || classification != null ? null : Math.exp(loss);
      return new MetricsEvent(run, step, epoch, split, loss, perplexity, lr, gradNorm, tokensSeen,
          tokensPerS, mlmAccuracy, classification);
    }
  }
}
