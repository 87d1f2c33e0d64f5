package ai.lmtrain.data;

import ai.lmtrain.tokenizers.EncodeOptions;
import ai.lmtrain.tokenizers.Tokenizer;
import java.util.List;

/**
 * One example per text, encoded with special tokens and truncated to {@code maxLength} (the
 * usual MLM pre-training input; the collator pads). Empty encodings are skipped.
 */
public final class EncodedDataset implements TokenDataset {

  private final List<int[]> examples;

  /** Encodes every text now. */
  public EncodedDataset(Tokenizer tokenizer, List<String> texts, int maxLength) {
    EncodeOptions options = EncodeOptions.defaults().withTruncation(maxLength);
    this.examples = texts.stream().map(t -> tokenizer.encode(t, options).ids())
        .filter(ids -> ids.length > tokenizer.postProcessor().added(false)).toList();
  }

  @Override
  public int size() {
    return examples.size();
  }

  @Override
  public int[] get(int index) {
    return examples.get(index);
  }
}
