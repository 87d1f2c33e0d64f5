package ai.lmtrain.infer;

import ai.lmtrain.layers.Pass;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.ModelInput;
import ai.lmtrain.tensor.Arena;
import java.util.stream.IntStream;

/**
 * The raw logits of every position of one unpadded sequence: what transformers'
 * {@code model(input_ids).logits[0]} holds, for comparing a model with another implementation.
 */
public final class SequenceLogits {
  private SequenceLogits() {}

  /**
   * Logits (T, V) of {@code ids} (T tokens, no padding), row t for position t, in the model's
   * compute type widened to float ({@link LanguageModel#logits}: a chunk of positions at a time).
   *
   * @throws IllegalArgumentException for an empty sequence
   */
  public static float[][] of(LanguageModel model, int[] ids) {
    if (ids.length == 0) {
      throw new IllegalArgumentException("no tokens to compute logits for");
    }
    try (Arena arena = new Arena(model.parameters().backend(), 1 << 20)) {
      return model.logits(Pass.inference(model.parameters(), arena), ModelInput.of(ids),
          IntStream.range(0, ids.length).toArray());
    }
  }
}
