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
    Backend backend = pass.backend();
    if (scored == 0) {
      return new Result(backend, null, 0f, scoredLabels, null);
    }
    float[] weights = weighting.rowWeights(input, labels);
    float meanScale = weights == null ? 1f / scored : 1f;
    LanguageModel.LossOutput out = model.loss(pass, input,
        new LanguageModel.LossTargets(labels, weights, meanScale * gradScale, backward, predictions));
    return new Result(backend, out.lossSum(), meanScale, scoredLabels, out.predictions());
  }
}
