package ai.lmtrain.infer;

import ai.lmtrain.layers.Pass;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.ModelInput;
import ai.lmtrain.tensor.Arena;
import ai.lmtrain.tensor.Tensor;

/**
 * The raw logits of every position of one unpadded sequence: what transformers'
 * {@code model(input_ids).logits[0]} holds, for comparing a model with another implementation.
 */
public final class SequenceLogits {
  private SequenceLogits() {}

  /**
   * Logits (T, V) of {@code ids} (T tokens, no padding), row t for position t, in the model's
   * compute type widened to float.
   *
   * @throws IllegalArgumentException for an empty sequence
   */
  public static float[][] of(LanguageModel model, int[] ids) {
    if (ids.length == 0) {
      throw new IllegalArgumentException("no tokens to compute logits for");
    }
    try (Arena arena = new Arena(model.parameters().backend(), 1 << 20)) {
      Tensor logits = model.forward(Pass.inference(model.parameters(), arena), ModelInput.of(ids));
      float[][] rows = new float[ids.length][];
      for (int t = 0; t < ids.length; t++) {
        rows[t] = model.parameters().backend().downloadFloats(logits.row(t));
      }
      return rows;
    }
  }
}
