package ai.lmtrain.tokenizers;

/**
 * Adds a model's special tokens around one text or a pair: BERT's template
 * {@code [CLS] A [SEP]} / {@code [CLS] A [SEP] B [SEP]}, or nothing (GPT-2's byte-level
 * post-processor adds no tokens).
 *
 * @param cls the leading token ({@code null} for none)
 * @param clsId its id
 * @param sep the separator/closing token ({@code null} for none)
 * @param sepId its id
 */
public record PostProcessor(String cls, int clsId, String sep, int sepId) {

  /** The post-processor that adds nothing. */
  public static final PostProcessor NONE = new PostProcessor(null, -1, null, -1);

  /** BERT's template processing with the given [CLS] and [SEP] tokens. */
  public static PostProcessor bert(String cls, int clsId, String sep, int sepId) {
    return new PostProcessor(cls, clsId, sep, sepId);
  }

  /** Whether this adds no tokens. */
  public boolean isNone() {
    return cls == null && sep == null;
  }

  /** Number of tokens added to a single text ({@code pair == false}) or to a pair. */
  public int added(boolean pair) {
    int n = (cls != null ? 1 : 0) + (sep != null ? 1 : 0);
    return pair && sep != null ? n + 1 : n;
  }
}
