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

  /**
   * The outcome of one batch.
   *
   * @param loss the batch loss (weighted mean)
   * @param scoredPositions positions that took a loss
   * @param logits the logits (B*T, V), or their gradient after a backward; valid until the arena resets
   */
  public record Result(double loss, int scoredPositions, Tensor logits) {}

  /**
   * Runs the batch. With {@code backward} and a finite loss, parameter gradients accumulate the
   * gradient of {@code gradScale * loss} (gradScale folds accumulation averaging and fp16 loss
   * scaling); a non-finite loss skips the backward and is returned for the caller to handle.
   */
  public static Result run(LanguageModel model, Pass pass, ModelInput input, LossWeighting weighting, boolean backward,
      float gradScale) {
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
    Tensor logits = model.forward(pass, input);
    if (scored == 0) {
      return new Result(Double.NaN, 0, logits);
    }
    float[] weights = weighting.rowWeights(input, labels);
    Tensor labelTensor = pass.scratch(DType.I32, labels.length);
    backend.upload(labelTensor, labels);
    Tensor weightTensor = null;
    float meanScale = 1f / scored;
    if (weights != null) {
      weightTensor = pass.scratch(DType.F32, weights.length);
      backend.upload(weightTensor, weights);
      meanScale = 1f;
    }
    Tensor lossSum = pass.scratch(DType.F32, 1);
    backend.softmaxCrossEntropy(lossSum, null, backward ? logits : null, logits, labelTensor, weightTensor,
        ModelInput.IGNORE_INDEX, meanScale * gradScale);
    double loss = backend.downloadFloats(lossSum)[0] * (double) meanScale;
    if (backward && Double.isFinite(loss)) { // a non-finite loss is the caller's to handle (fp16 skips the step)
      model.backward(pass, logits);
    }
    return new Result(loss, scored, logits);
  }
}
