package ai.lmtrain.data;

import ai.lmtrain.tokenizers.EncodeOptions;
import ai.lmtrain.tokenizers.Encoding;
import ai.lmtrain.tokenizers.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * Tokenized examples of sequence classification (ids, segment ids, targets), served through the
 * {@link DataLoader} like any {@link TokenDataset}, and their {@link #collator}.
 *
 * <p>Each example is stored as one int array, so that the loader's shuffling, batching and
 * checkpointed position apply unchanged: {@code [n, ids (n), segment ids (n), targets as float
 * bits (W)]}, where W is the same for every example (1 for a class id, the label count for
 * multi-hot rows or regression values). The collator unpacks it.
 */
public final class ClassificationExamples implements TokenDataset {
  private final List<int[]> packed;
  private final int targetWidth;

  private ClassificationExamples(List<int[]> packed, int targetWidth) {
    this.packed = packed;
    this.targetWidth = targetWidth;
  }

  /**
   * Tokenizes {@code rows} (text pairs as [CLS] A [SEP] B [SEP] for BERT; without special tokens,
   * as GPT-2's tokenizer adds none), truncated to {@code maxLength} tokens (longest first for pairs).
   *
   * @param targets the targets (W values) of a row; throws for a label it cannot resolve
   */
  public static ClassificationExamples encode(Tokenizer tokenizer, List<LabelledText> rows, int maxLength,
      boolean addSpecialTokens, Function<LabelledText, float[]> targets) {
    EncodeOptions options = EncodeOptions.defaults().withTruncation(maxLength).withAddSpecialTokens(addSpecialTokens);
    List<int[]> packed = new ArrayList<>(rows.size());
    int width = -1;
    for (LabelledText row : rows) {
      Encoding e = row.textPair() == null ? tokenizer.encode(row.text(), options)
          : tokenizer.encodePair(row.text(), row.textPair(), options);
      if (e.length() == 0) {
        throw new IllegalArgumentException(row.source() + ": the text encodes to no token");
      }
      float[] t = targets.apply(row);
      if (width >= 0 && t.length != width) {
        throw new IllegalArgumentException(row.source() + ": " + t.length + " target values, but earlier rows have "
            + width);
      }
      width = t.length;
      int n = e.length();
      int[] example = new int[1 + 2 * n + t.length];
      example[0] = n;
      System.arraycopy(e.ids(), 0, example, 1, n);
      System.arraycopy(e.typeIds(), 0, example, 1 + n, n);
      for (int j = 0; j < t.length; j++) {
        example[1 + 2 * n + j] = Float.floatToRawIntBits(t[j]);
      }
      packed.add(example);
    }
    return new ClassificationExamples(List.copyOf(packed), Math.max(width, 0));
  }

  @Override
  public int size() {
    return packed.size();
  }

  @Override
  public int[] get(int index) {
    return packed.get(index);
  }

  /** The token ids of example {@code index}. */
  public int[] ids(int index) {
    int[] e = packed.get(index);
    return Arrays.copyOfRange(e, 1, 1 + e[0]);
  }

  /** Values per example target (1 for class ids). */
  public int targetWidth() {
    return targetWidth;
  }

  /**
   * Pads each batch on the right to its longest example with {@code padId} (segment id 0,
   * attention mask 0), token-level labels all ignored, and the examples' targets as
   * {@link Batch#sequenceTargets()}.
   */
  public static Collator collator(int padId) {
    return (examples, rng) -> {
      int b = examples.size();
      int t = examples.stream().mapToInt(e -> e[0]).max().orElseThrow();
      int width = examples.get(0).length - 1 - 2 * examples.get(0)[0];
      int[] ids = new int[b * t];
      int[] mask = new int[b * t];
      int[] types = new int[b * t];
      int[] labels = new int[b * t];
      float[] targets = new float[b * width];
      Arrays.fill(ids, padId);
      Arrays.fill(labels, Batch.IGNORE);
      for (int r = 0; r < b; r++) {
        int[] e = examples.get(r);
        int n = e[0];
        System.arraycopy(e, 1, ids, r * t, n);
        System.arraycopy(e, 1 + n, types, r * t, n);
        Arrays.fill(mask, r * t, r * t + n, 1);
        for (int j = 0; j < width; j++) {
          targets[r * width + j] = Float.intBitsToFloat(e[1 + 2 * n + j]);
        }
      }
      return new Batch(b, t, ids, mask, types, labels, targets);
    };
  }
}
