package ai.lmtrain.models;

import ai.lmtrain.layers.Pass;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.Tensor;

/**
 * A transformer with a sequence-classification head (Hugging Face's
 * {@code *ForSequenceClassification}): one row of logits per sequence. One forward is followed by
 * at most one backward.
 */
public interface SequenceClassifier extends Model {

  /** The label set, problem type and head settings. */
  SequenceClassification classification();

  /** The body's architecture (BERT or GPT-2 config). */
  ModelConfig baseConfig();

  /**
   * The token id batches are padded with: GPT-2's pad_token_id (the head finds each row's last
   * token by it; 0 when there is none, as then batches hold one sequence), BERT's pad_token_id.
   */
  int padId();

  /** Logits (B, num_labels) in the compute type, valid until the pass's arena is reset. */
  Tensor forward(Pass pass, ModelInput input);

  /** Given dlogits (B, num_labels) (may be the logits tensor, overwritten), accumulates all parameter gradients. */
  void backward(Pass pass, Tensor dlogits);

  /** A classifier with zeroed parameters on the body {@code base}; call {@link #initialize} or load weights. */
  static SequenceClassifier create(ModelConfig base, SequenceClassification head, Backend backend, DType computeType) {
    if (base instanceof BertConfig bert) {
      return new BertForSequenceClassification(bert, head, backend, computeType);
    }
    return new Gpt2ForSequenceClassification((Gpt2Config) base, head, backend, computeType);
  }
}
