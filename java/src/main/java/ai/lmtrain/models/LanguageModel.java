package ai.lmtrain.models;

import ai.lmtrain.layers.Pass;
import ai.lmtrain.tensor.Tensor;

/**
 * A transformer language model. Training and evaluation go through {@link #loss}, which computes
 * the language-model head (tied to the token embedding, whose padding rows never take part; see
 * {@link Model#VOCAB_PADDING}) and the cross-entropy only on the positions that take a loss, chunk
 * by chunk, so the (B*T, V) logits never exist; inference reads the logits of the positions it needs
 * with {@link #logits}. One pass at a time.
 */
public interface LanguageModel extends Model {

  /**
   * What a loss pass computes.
   *
   * @param labels (B*T) each position's target ({@link #lossLabels}), {@link ModelInput#IGNORE_INDEX} where none
   * @param rowWeights (B*T) loss weights, or null for 1 each
   * @param gradScale with {@code backward}, gradients accumulate the gradient of {@code gradScale * lossSum}
   * @param backward run the backward pass
   * @param predictions also compute each scored position's argmax (accuracy)
   */
  record LossTargets(int[] labels, float[] rowWeights, float gradScale, boolean backward, boolean predictions) {}

  /**
   * What a loss pass produced, on the device, valid until the pass's arena resets.
   *
   * @param lossSum (1) F32: sum over the scored positions of the (weighted) cross-entropy
   * @param predictions (scored positions) I32: the argmax of each scored position, in position order,
   *     or null when not asked for
   */
  record LossOutput(Tensor lossSum, Tensor predictions) {}

  /**
   * The loss of one batch: the transformer over every position, then the head (BERT's transform or
   * GPT-2's final LayerNorm, and the tied output projection) and softmax cross-entropy on the
   * positions whose label is not ignored, in chunks of rows. With {@code targets.backward()}, every
   * parameter gradient accumulates. At least one position must take a loss. Nothing here waits for
   * the device: labels and weights are uploaded before the forward is queued.
   */
  LossOutput loss(Pass pass, ModelInput input, LossTargets targets);

  /**
   * The logits (V floats each) at {@code positions} (strictly increasing indexes into the B*T
   * positions) of a forward over {@code input}; the head runs on those positions only.
   */
  float[][] logits(Pass pass, ModelInput input, int[] positions);

  /**
   * Bounds the logits a pass holds at once to about {@code bytes} (at least one position's):
   * default {@link ai.lmtrain.layers.LmHead#DEFAULT_CHUNK_BYTES} on the CPU,
   * {@link ai.lmtrain.layers.LmHead#DEFAULT_GPU_CHUNK_BYTES} on a GPU.
   */
  void setLogitsChunkBytes(long bytes);

  /**
   * The labels row i of the logits is scored against: BERT's labels as given, GPT-2's shifted
   * (label[t+1] for position t, ignored at the last position).
   */
  int[] lossLabels(ModelInput input);
}
