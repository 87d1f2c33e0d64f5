package ai.lmtrain.models;

import ai.lmtrain.tensor.ParameterStore;

/**
 * A transformer over the native backend with Hugging Face parameter names and config: what
 * checkpoints save and load and what the trainer's optimizer updates, whatever the head. A model
 * instance is not safe for concurrent passes.
 */
public interface Model extends AutoCloseable {

  /** "bert" or "gpt2" (the config.json model_type). */
  String modelType();

  /** The parameters, in contiguous buffers named by Hugging Face checkpoint keys. */
  ParameterStore parameters();

  int vocabSize();

  /** Longest sequence the position table allows. */
  int maxPositions();

  /** The model's config.json content. */
  String configJson();

  /** Hugging Face initialisation from {@code seed} (normal(0, initializer_range), zero biases, unit LayerNorms ...). */
  void initialize(long seed);

  /**
   * Maps a checkpoint key of a Hugging Face file to this model's parameter name (legacy gamma/beta
   * names and missing "bert."/"transformer." prefixes normalised), or null for keys that carry no
   * parameter of this model (tied copies, buffers such as attn.bias or position_ids, other heads).
   */
  String parameterNameFor(String checkpointKey);

  @Override
  void close();
}
