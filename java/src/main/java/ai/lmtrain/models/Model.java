package ai.lmtrain.models;

import ai.lmtrain.tensor.ParameterStore;
import java.util.Map;

/**
 * A transformer over the native backend with Hugging Face parameter names and config: what
 * checkpoints save and load and what the trainer's optimizer updates, whatever the head. A model
 * instance is not safe for concurrent passes.
 *
 * <p>The token embedding (and an untied output projection's weight, and an output bias) is stored
 * with its vocabulary rounded up to a multiple of {@link #VOCAB_PADDING} rows (GPT-2: 50304 for
 * 50257), so that the output projection has GEMM-friendly sizes; the padding rows are zero and stay zero, no id selects them, and they never
 * show up in logits, probabilities, predictions, checkpoints or parameter counts.
 */
public interface Model extends AutoCloseable {

  /** The vocabulary is padded to a multiple of this many rows in the parameter layout. */
  int VOCAB_PADDING = 128;

  /** "bert", "roberta-prelayernorm" (pre-LN BERT) or "gpt2" (the config.json model_type). */
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

  /**
   * Checkpoint keys saved beside the parameters as copies of one of them (key to parameter name):
   * Hugging Face names that a reader of the folder needs besides the parameter's own. None unless
   * a model says otherwise.
   */
  default Map<String, String> savedCopies() {
    return Map.of();
  }

  @Override
  void close();
}
