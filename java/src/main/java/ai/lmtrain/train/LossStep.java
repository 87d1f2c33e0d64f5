package ai.lmtrain.train;

import ai.lmtrain.layers.Pass;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.ModelInput;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.Tensor;

/**
 * Forward, fused softmax cross-entropy and (optionally) backward of one batch: the loss of a
 * language model exactly as Hugging Face computes it (fp32 loss, ignore_index -100, mean over
 * the scored positions unless a {@link LossWeighting} says otherwise).
 */
public final class LossStep {
  private LossStep() {}

  /** The outcome of one batch; its tensors are valid until the arena resets. */
  public static final class Result {
    private final Backend backend;
    private final Tensor lossSum;
    private final float meanScale;
    private final int scoredPositions;
    private final Tensor logits;

    Result(Backend backend, Tensor lossSum, float meanScale, int scoredPositions, Tensor logits) {
      this.backend = backend;
      this.lossSum = lossSum;
      this.meanScale = meanScale;
      this.scoredPositions = scoredPositions;
      this.logits = logits;
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
      return scoredPositions;
    }

    /** The logits (B*T, V), or their gradient after a backward. */
    public Tensor logits() {
      return logits;
    }

    /**
     * The batch loss (weighted mean), NaN when no position was scored. Reads the device, so on a
     * GPU it waits for the queued work: a training loop reads its losses once per step, not per batch.
     */
    public double loss() {
      return lossSum == null ? Double.NaN : backend.downloadFloats(lossSum)[0] * (double) meanScale;
    }
  }

  /**
   * Runs the batch. With {@code backward}, parameter gradients accumulate the gradient of
   * {@code gradScale * loss} (gradScale folds accumulation averaging and fp16 loss scaling). Nothing
   * here waits for the device: labels and weights are uploaded before the forward is queued, and the
   * loss stays on the device ({@link Result#loss()} reads it). A non-finite loss therefore still runs
   * the backward, whose non-finite gradients the caller's overflow check then sees.
   */
  public static Result run(LanguageModel model, Pass pass, ModelInput input, LossWeighting weighting, boolean backward,
      float gradScale) {
    Result r = forwardAndLoss(model, pass, input, weighting, backward, gradScale);
    if (backward && r.lossSum() != null) {
      model.backward(pass, r.logits());
    }
    return r;
  }

  /**
   * {@link #run} without the model's backward: with {@code backward}, the logits tensor of the
   * result holds the loss's gradient (when a position was scored), for a caller that adds other
   * losses before it runs the model's backward.
   */
  static Result forwardAndLoss(LanguageModel model, Pass pass, ModelInput input, LossWeighting weighting,
      boolean backward, float gradScale) {
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
    Backend backend = pass.backend();
    if (scored == 0) {
      return new Result(backend, null, 0f, 0, model.forward(pass, input));
    }
    Tensor labelTensor = pass.scratch(DType.I32, labels.length);
    backend.upload(labelTensor, labels);
    float[] weights = weighting.rowWeights(input, labels);
    Tensor weightTensor = null;
    float meanScale = 1f / scored;
    if (weights != null) {
      weightTensor = pass.scratch(DType.F32, weights.length);
      backend.upload(weightTensor, weights);
      meanScale = 1f;
    }
    Tensor logits = model.forward(pass, input);
    Tensor lossSum = pass.scratch(DType.F32, 1);
    backend.softmaxCrossEntropy(lossSum, null, backward ? logits : null, logits, labelTensor, weightTensor,
        ModelInput.IGNORE_INDEX, meanScale * gradScale);
    return new Result(backend, lossSum, meanScale, scored, logits);
  }
}
