package ai.lmtrain.train;

import ai.lmtrain.layers.Pass;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.ModelInput;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.Tensor;

/**
 * Forward, fused softmax cross-entropy and (optionally) backward of one batch: the loss of a
 * language model exactly as Hugging Face computes it (fp32 loss, ignore_index -100, mean over
 * the scored positions unless a {@link LossWeighting} says otherwise). The model computes its head
 * and the cross-entropy only on the scored positions, chunk by chunk ({@link LanguageModel#loss}).
 */
public final class LossStep {
  private LossStep() {}

  /** The outcome of one batch; its tensors are valid until the arena resets. */
  public static final class Result {
    private final Backend backend;
    private final Tensor lossSum;
    private final float meanScale;
    private final int[] scoredLabels;
    private final Tensor predictions;

    Result(Backend backend, Tensor lossSum, float meanScale, int[] scoredLabels, Tensor predictions) {
      this.backend = backend;
      this.lossSum = lossSum;
      this.meanScale = meanScale;
      this.scoredLabels = scoredLabels;
      this.predictions = predictions;
    }

    /**
     * The device scalar (F32) the cross-entropy summed the (weighted) losses into; times
     * {@link #meanScale()} it is the batch loss. Null when no position was scored.
     */
    public Tensor lossSum() {
      return lossSum;
    }

    /** 1 / scored positions, or 1 with row weights. */
    public float meanScale() {
      return meanScale;
    }

    /** Positions that took a loss. */
    public int scoredPositions() {
      return scoredLabels.length;
    }

    /**
     * The batch loss (weighted mean), NaN when no position was scored. Reads the device, so on a
     * GPU it waits for the queued work: a training loop reads its losses once per step, not per batch.
     */
    public double loss() {
      return lossSum == null ? Double.NaN : backend.downloadFloats(lossSum)[0] * (double) meanScale;
    }

    /**
     * How many scored positions the model's most likely token (the argmax of its logits) gets
     * right; reads the device. Only for results of {@link #evaluate}.
     */
    public int correctPredictions() {
      if (scoredLabels.length == 0) {
        return 0;
      }
      if (predictions == null) {
        throw new IllegalStateException("this batch was run without predictions (use LossStep.evaluate)");
      }
      int[] predicted = backend.downloadInts(predictions);
      int correct = 0;
      for (int i = 0; i < predicted.length; i++) {
        correct += predicted[i] == scoredLabels[i] ? 1 : 0;
      }
      return correct;
    }
  }

  /**
   * Runs the batch. With {@code backward}, parameter gradients accumulate the gradient of
   * {@code gradScale * loss} (gradScale folds accumulation averaging and fp16 loss scaling). Nothing
   * here waits for the device: labels and weights are uploaded before the forward is queued, and the
   * loss stays on the device ({@link Result#loss()} reads it). A non-finite loss therefore still runs
   * the backward, whose non-finite gradients the caller's overflow check then sees. A batch without
   * a scored position runs nothing.
   */
  public static Result run(LanguageModel model, Pass pass, ModelInput input, LossWeighting weighting, boolean backward,
      float gradScale) {
    return run(model, pass, input, weighting, backward, gradScale, false);
  }

  /**
   * The batch's mean loss without backward, with each scored position's predicted token
   * ({@link Result#correctPredictions}).
   */
  public static Result evaluate(LanguageModel model, Pass pass, ModelInput input) {
    return run(model, pass, input, LossWeighting.MEAN, false, 1f, true);
  }

  private static Result run(LanguageModel model, Pass pass, ModelInput input, LossWeighting weighting,
      boolean backward, float gradScale, boolean predictions) {
    Targets t = targets(model, input, weighting, backward, gradScale, predictions);
    return t.scoredLabels().length == 0 ? t.result(pass.backend(), null) : t.result(pass.backend(),
        model.loss(pass, input, t.targets()));
  }

  /**
   * A batch's loss targets, checked (every label ignored or in the vocabulary), for a caller that
   * runs the model's loss itself (with other losses in the same pass): the model's
   * {@link LanguageModel.LossTargets}, and how {@link #result} turns its output into a {@link Result}.
   *
   * @param targets what the model's loss pass computes
   * @param meanScale 1 / scored positions, or 1 with row weights
   * @param scoredLabels the labels of the scored positions, in order (none: nothing to run)
   */
  record Targets(LanguageModel.LossTargets targets, float meanScale, int[] scoredLabels) {
    /** The result of the model's loss output {@code out} (null when no position was scored). */
    Result result(Backend backend, LanguageModel.LossOutput out) {
      return out == null ? new Result(backend, null, 0f, scoredLabels, null)
          : new Result(backend, out.lossSum(), meanScale, scoredLabels, out.predictions());
    }
  }

  /** The checked {@link Targets} of a batch (see {@link #run}). */
  static Targets targets(LanguageModel model, ModelInput input, LossWeighting weighting, boolean backward,
      float gradScale, boolean predictions) {
    int[] labels = model.lossLabels(input);
    int scored = 0;
    for (int label : labels) {
      if (label != ModelInput.IGNORE_INDEX) {
        if (label < 0 || label >= model.vocabSize()) {
          throw new IllegalArgumentException("label " + label + " is out of range for vocab_size " + model.vocabSize());
        }
        scored++;
      }
    }
    int[] scoredLabels = new int[scored];
    for (int i = 0, k = 0; i < labels.length; i++) {
      if (labels[i] != ModelInput.IGNORE_INDEX) {
        scoredLabels[k++] = labels[i];
      }
    }
    float[] weights = scored == 0 ? null : weighting.rowWeights(input, labels);
    float meanScale = scored == 0 ? 0f : weights == null ? 1f / scored : 1f;
    return new Targets(new LanguageModel.LossTargets(labels, weights, meanScale * gradScale, backward, predictions),
        meanScale, scoredLabels);
  }
}
