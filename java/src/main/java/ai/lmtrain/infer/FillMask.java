package ai.lmtrain.infer;

import ai.lmtrain.layers.Pass;
import ai.lmtrain.models.MaskedLanguageModel;
import ai.lmtrain.models.ModelInput;
import ai.lmtrain.tensor.Arena;
import ai.lmtrain.tokenizers.Encoding;
import ai.lmtrain.tokenizers.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * The fill-mask pipeline: for every mask token of a text, the top-k tokens of the softmax over the
 * vocabulary at that position, as Hugging Face's {@code pipeline("fill-mask")} reports them. The
 * model's head runs on the mask positions only.
 */
public final class FillMask {
  private FillMask() {}

  /**
   * One candidate for one mask.
   *
   * @param score probability
   * @param token token id
   * @param tokenStr the token decoded on its own
   * @param sequence the text with this mask filled by the token (other masks left as they are)
   */
  public record Prediction(double score, int token, String tokenStr, String sequence) {}

  /** The top {@code topK} predictions for each mask of {@code text}, in text order. */
  public static List<List<Prediction>> predict(MaskedLanguageModel model, Tokenizer tokenizer, String text, int topK) {
    if (topK <= 0) {
      throw new IllegalArgumentException("top_k must be > 0 (got " + topK + ")");
    }
    String maskToken = tokenizer.specialTokens().mask();
    OptionalInt maskId = maskToken == null ? OptionalInt.empty() : tokenizer.tokenToId(maskToken);
    if (maskId.isEmpty()) {
      throw new IllegalArgumentException("the tokenizer has no mask token, so fill-mask is not possible");
    }
    Encoding enc = tokenizer.encode(text);
    int[] ids = enc.ids();
    List<Integer> positions = new ArrayList<>();
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] == maskId.getAsInt()) {
        positions.add(i);
      }
    }
    if (positions.isEmpty()) {
      throw new IllegalArgumentException("no " + maskToken + " token in the text \"" + text + "\"");
    }
    List<List<Prediction>> out = new ArrayList<>();
    try (Arena arena = new Arena(model.parameters().backend(), 1 << 20)) {
      float[][] logits = model.logits(Pass.inference(model.parameters(), arena), ModelInput.of(ids),
          positions.stream().mapToInt(Integer::intValue).toArray());
      for (int m = 0; m < positions.size(); m++) {
        List<Prediction> predictions = new ArrayList<>();
        for (TopK.Candidate c : TopK.of(logits[m], topK)) {
          int[] filled = ids.clone();
          filled[positions.get(m)] = c.id();
          predictions.add(new Prediction(c.probability(), c.id(), tokenizer.decode(new int[] {c.id()}),
              tokenizer.decode(filled, true)));
        }
        out.add(predictions);
      }
    }
    return out;
  }
}
