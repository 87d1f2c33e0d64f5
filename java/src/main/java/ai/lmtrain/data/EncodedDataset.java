package ai.lmtrain.data;

import ai.lmtrain.tokenizers.EncodeOptions;
import ai.lmtrain.tokenizers.Tokenizer;
import java.util.List;

/**
 * One example per text, encoded (with or without the tokenizer's special tokens) and truncated
 * to {@code maxLength}; the collator pads. Empty encodings are skipped. BERT inputs take special
 * tokens ([CLS] ... [SEP]); GPT-2 style inputs take none, as Hugging Face's GPT-2 tokenizer adds none.
 */
public final class EncodedDataset implements TokenDataset {

  private final List<int[]> examples;

  /** Encodes every text now. */
  public EncodedDataset(Tokenizer tokenizer, List<String> texts, int maxLength, boolean addSpecialTokens) {
    EncodeOptions options = EncodeOptions.defaults().withTruncation(maxLength).withAddSpecialTokens(addSpecialTokens);
    int added = addSpecialTokens ? tokenizer.postProcessor().added(false) : 0;
    this.examples = texts.stream().map(t -> tokenizer.encode(t, options).ids()).filter(ids -> ids.length > added)
        .toList();
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
