package ai.lmtrain.models;

import ai.lmtrain.layers.Pass;
import ai.lmtrain.tensor.Tensor;

/**
 * A transformer language model: forward to logits over the vocabulary, backward from the logits'
 * gradient into the parameter gradients. One forward is followed by at most one backward.
 */
public interface LanguageModel extends Model {

  /** Logits (B*T, V) in the compute type, valid until the pass's arena is reset. */
  Tensor forward(Pass pass, ModelInput input);

  /** Given dlogits (B*T, V) (may be the logits tensor, overwritten), accumulates all parameter gradients. */
  void backward(Pass pass, Tensor dlogits);

  /**
   * The labels row i of the logits is scored against: BERT's labels as given, GPT-2's shifted
   * (label[t+1] for position t, ignored at the last position).
   */
  int[] lossLabels(ModelInput input);
}
