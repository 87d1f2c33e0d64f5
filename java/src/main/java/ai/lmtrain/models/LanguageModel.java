package ai.lmtrain.models;

import ai.lmtrain.layers.Pass;
import ai.lmtrain.tensor.ParameterStore;
import ai.lmtrain.tensor.Tensor;

/**
 * A transformer language model over the native backend. Training and evaluation go through
 * {@link #loss}, which computes the language-model head and the cross-entropy only on the positions
 * that take a loss, chunk by chunk, so the (B*T, V) logits never exist; inference reads the logits
 * of the positions it needs with {@link #logits}. One pass at a time: a model instance is not safe
 * for concurrent passes.
 *
 * <p>The token embedding (tied to the output projection) is stored with its vocabulary rounded up
 * to a multiple of {@link #VOCAB_PADDING} rows; the padding rows are zero and stay zero, never show
 * up in logits, probabilities, predictions, checkpoints or parameter counts.
 */
public interface LanguageModel extends AutoCloseable {

  /** The vocabulary is padded to a multiple of this many rows in the parameter layout. */
  int VOCAB_PADDING = 128;

  /** "bert" or "gpt2" (the config.json model_type). */
  String modelType();

  /** The parameters, in contiguous buffers named by Hugging Face checkpoint keys. */
  ParameterStore parameters();

  int vocabSize();

  /** Longest sequence the position table allows. */
  int maxPositions();

  /** The model's config.json content. */
  String configJson();

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
   * default {@link ai.lmtrain.layers.LmHead#DEFAULT_CHUNK_BYTES}.
   */
  void setLogitsChunkBytes(long bytes);

  /**
   * The labels row i of the logits is scored against: BERT's labels as given, GPT-2's shifted
   * (label[t+1] for position t, ignored at the last position).
   */
  int[] lossLabels(ModelInput input);

  /** Hugging Face initialisation from {@code seed} (normal(0, initializer_range), zero biases, unit LayerNorms ...). */
  void initialize(long seed);

  /**
   * Maps a checkpoint key of a Hugging Face file to this model's parameter name (legacy gamma/beta
   * names and missing "bert."/"transformer." prefixes normalised), or null for keys that carry no
   * parameter of this model (tied copies, buffers such as attn.bias or position_ids, the pooler).
   */
  String parameterNameFor(String checkpointKey);

  @Override
  void close();
}
