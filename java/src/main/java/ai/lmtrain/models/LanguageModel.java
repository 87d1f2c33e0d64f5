package ai.lmtrain.models;

import ai.lmtrain.layers.Pass;
import ai.lmtrain.tensor.ParameterStore;
import ai.lmtrain.tensor.Tensor;

/**
 * A transformer language model over the native backend: forward to logits, backward from the
 * logits' gradient into the parameter gradients. One forward is followed by at most one backward;
 * a model instance is not safe for concurrent passes.
 */
public interface LanguageModel extends AutoCloseable {

  /** "bert" or "gpt2" (the config.json model_type). */
  String modelType();

  /** The parameters, in contiguous buffers named by Hugging Face checkpoint keys. */
  ParameterStore parameters();

  int vocabSize();

  /** Longest sequence the position table allows. */
  int maxPositions();

  /** The model's config.json content. */
  String configJson();

  /** Logits (B*T, V) in the compute type, valid until the pass's arena is reset. */
  Tensor forward(Pass pass, ModelInput input);

  /** Given dlogits (B*T, V) (may be the logits tensor, overwritten), accumulates all parameter gradients. */
  void backward(Pass pass, Tensor dlogits);

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
