package ai.lmtrain.tokenizers;

import java.util.List;
import java.util.Map;

/**
 * BERT's WordPiece tokenizer: added tokens matched in raw text, {@link BertNormalizer},
 * {@link BertPreTokenizer}, then greedy longest-match with continuation pieces prefixed
 * {@code ##}; a word longer than {@code maxInputCharsPerWord} code points, or with a position no
 * piece matches, becomes one unknown token. Post-processing adds {@code [CLS] A [SEP]} /
 * {@code [CLS] A [SEP] B [SEP]}. Decoding strips {@code ##}, joins with spaces and applies HF's
 * {@code clean_up_tokenization}.
 */
public final class WordPieceTokenizer extends VocabularyTokenizer {

  /** HF's default limit on word length. */
  public static final int DEFAULT_MAX_INPUT_CHARS_PER_WORD = 100;

  private final BertNormalizer normalizer;
  private final String unkToken;
  private final int unkId;
  private final String prefix;
  private final int maxInputCharsPerWord;
  private final PostProcessor postProcessor;
  private final SpecialTokens specialTokens;

  /**
   * Builds a tokenizer.
   *
   * @param vocab token -&gt; id (ids 0..n-1)
   * @param addedTokens tokens matched literally in raw text (normally the special tokens)
   * @param normalizer the normalizer, or {@code null} for none
   * @param unkToken the unknown token (must be in the vocabulary)
   * @param prefix the continuation prefix, normally {@code ##}
   * @param maxInputCharsPerWord longer words become the unknown token
   * @param cls the [CLS] token for post-processing, or {@code null} for no post-processing
   * @param sep the [SEP] token for post-processing, or {@code null}
   * @param source the file named in error messages
   */
  public WordPieceTokenizer(Map<String, Integer> vocab, List<AddedToken> addedTokens, BertNormalizer normalizer,
      String unkToken, String prefix, int maxInputCharsPerWord, String cls, String sep, String source) {
    super(Vocabulary.of(vocab, addedTokens, source));
    this.normalizer = normalizer;
    this.unkToken = unkToken;
    this.unkId = this.vocab.idOf(unkToken);
    if (unkId < 0) {
      throw new TokenizerException(source + ": the unknown token " + unkToken + " is not in the vocabulary");
    }
    this.prefix = prefix;
    this.maxInputCharsPerWord = maxInputCharsPerWord;
    this.postProcessor = cls == null || sep == null ? PostProcessor.NONE
        : PostProcessor.bert(cls, require(cls, source), sep, require(sep, source));
    this.specialTokens = new SpecialTokens(unkToken, present("[PAD]"), cls, sep, present("[MASK]"), null, null);
  }

  private int require(String token, String source) {
    int id = vocab.idOf(token);
    if (id < 0) {
      throw new TokenizerException(source + ": special token " + token + " is not in the vocabulary");
    }
    return id;
  }

  private String present(String token) {
    return vocab.idOf(token) >= 0 ? token : null;
  }

  @Override
  public String modelType() {
    return "WordPiece";
  }

  /** The normalizer, or {@code null}. */
  public BertNormalizer normalizer() {
    return normalizer;
  }

  /** The continuation prefix ({@code ##}). */
  public String continuationPrefix() {
    return prefix;
  }

  /** The longest word (in code points) that is not mapped to the unknown token outright. */
  public int maxInputCharsPerWord() {
    return maxInputCharsPerWord;
  }

  @Override
  public TokenSequence tokenize(String text, boolean withOffsets) {
    TokenSequence.Builder out = new TokenSequence.Builder(withOffsets);
    vocab.split(text, new Vocabulary.SegmentVisitor() {
      @Override
      public void text(int start, int end) {
        BertNormalizer.Normalized n = normalizer == null
            ? identity(text, start, end) : normalizer.normalize(text, start, end);
        BertPreTokenizer.split(n.text(), (ws, we) -> wordPieces(n, ws, we, out));
      }

      @Override
      public void added(AddedToken token, int start) {
        out.add(token.id(), token.content(), token.special(), start, start + token.content().length());
      }
    });
    return out.build();
  }

  private static BertNormalizer.Normalized identity(String text, int start, int end) {
    int[] starts = new int[end - start];
    int[] ends = new int[end - start];
    for (int i = 0; i < starts.length; i++) {
      starts[i] = start + i;
      ends[i] = start + i + 1;
    }
    return new BertNormalizer.Normalized(text.substring(start, end), starts, ends);
  }

  private void wordPieces(BertNormalizer.Normalized n, int wordStart, int wordEnd, TokenSequence.Builder out) {
    String text = n.text();
    int origStart = n.starts()[wordStart];
    int origEnd = n.ends()[wordEnd - 1];
    if (text.codePointCount(wordStart, wordEnd) > maxInputCharsPerWord) {
      out.add(unkId, unkToken, false, origStart, origEnd);
      return;
    }
    int mark = 0;
    int[] ids = new int[wordEnd - wordStart];
    int[] bounds = new int[wordEnd - wordStart + 1];
    bounds[0] = wordStart;
    for (int start = wordStart; start < wordEnd; ) {
      int found = -1;
      int end = wordEnd;
      while (end > start) {
        String piece = text.substring(start, end);
        found = vocab.idOf(start > wordStart ? prefix + piece : piece);
        if (found >= 0) {
          break;
        }
        end -= Character.isLowSurrogate(text.charAt(end - 1)) && end - 2 >= start ? 2 : 1;
      }
      if (found < 0) {
        out.add(unkId, unkToken, false, origStart, origEnd);
        return;
      }
      ids[mark++] = found;
      bounds[mark] = end;
      start = end;
    }
    for (int k = 0; k < mark; k++) {
      out.add(ids[k], vocab.token(ids[k]), false, n.starts()[bounds[k]], n.ends()[bounds[k + 1] - 1]);
    }
  }

  @Override
  public PostProcessor postProcessor() {
    return postProcessor;
  }

  @Override
  public String decode(int[] ids, boolean skipSpecialTokens) {
    StringBuilder out = new StringBuilder();
    for (int id : ids) {
      String token = vocab.token(id);
      if (skipSpecialTokens && vocab.isSpecial(id)) {
        continue;
      }
      if (token.startsWith(prefix) && out.length() > 0) {
        out.append(token, prefix.length(), token.length());
      } else {
        if (out.length() > 0) {
          out.append(' ');
        }
        out.append(token);
      }
    }
    return cleanUpTokenization(out.toString());
  }

  /** HF's {@code clean_up_tokenization}: re-attach punctuation and English contractions. */
  public static String cleanUpTokenization(String text) {
    return text.replace(" .", ".")
        .replace(" ?", "?")
        .replace(" !", "!")
        .replace(" ,", ",")
        .replace(" ' ", "'")
        .replace(" n't", "n't")
        .replace(" 'm", "'m")
        .replace(" do not", " don't")
        .replace(" 's", "'s")
        .replace(" 've", "'ve")
        .replace(" 're", "'re");
  }

  @Override
  public SpecialTokens specialTokens() {
    return specialTokens;
  }
}
