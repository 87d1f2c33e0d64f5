package ai.lmtrain.data.shards;

import ai.lmtrain.tokenizers.IdBuffer;
import ai.lmtrain.tokenizers.PostProcessor;
import ai.lmtrain.tokenizers.Tokenizer;
import ai.lmtrain.tokenizers.TokenizerException;
import java.util.OptionalInt;

/**
 * How documents become one token stream, by tokenizer kind:
 * <ul>
 *   <li>GPT-2 style (no post-processor, an end-of-text token): {@code <|endoftext|>} before every
 *       document, as llm.c's {@code fineweb.py} writes them;
 *   <li>BERT style ({@code [CLS] A [SEP]} post-processing): each document as the tokenizer encodes
 *       it with special tokens, {@code [CLS] ... [SEP]}.
 * </ul>
 * The text is tokenized as Hugging Face's {@code tokenizer(text)} does: special tokens written
 * literally in it are matched. Immutable and thread-safe (the tokenizers are).
 *
 * @param tokenizer the tokenizer
 * @param startId the id placed before each document
 * @param endId the id placed after each document, or -1
 */
public record DocumentTokens(Tokenizer tokenizer, int startId, int endId) {

  /**
   * The convention of {@code tokenizer}.
   *
   * @throws TokenizerException if it has neither an end-of-text token nor [CLS]/[SEP] post-processing
   */
  public static DocumentTokens of(Tokenizer tokenizer) {
    PostProcessor pp = tokenizer.postProcessor();
    if (pp.cls() != null && pp.sep() != null) {
      return new DocumentTokens(tokenizer, pp.clsId(), pp.sepId());
    }
    String eos = tokenizer.specialTokens().eos();
    OptionalInt id = eos == null ? OptionalInt.empty() : tokenizer.tokenToId(eos);
    if (pp.isNone() && id.isPresent()) {
      return new DocumentTokens(tokenizer, id.getAsInt(), -1);
    }
    throw new TokenizerException("the tokenizer has neither an end-of-text token (GPT-2 style) nor [CLS]/[SEP]"
        + " post-processing (BERT style), so documents could not be separated in the shards");
  }

  /** The token before each document, as text. */
  public String startToken() {
    return tokenizer.idToToken(startId);
  }

  /** The token after each document, or null. */
  public String endToken() {
    return endId < 0 ? null : tokenizer.idToToken(endId);
  }

  /**
   * Appends the ids of a document piece to {@code out}: the start id if it starts a document, its
   * tokens, the end id if it ends one.
   */
  public void encode(String text, boolean first, boolean last, IdBuffer out) {
    if (first) {
      out.add(startId);
    }
    tokenizer.encodeIds(text, out);
    if (last && endId >= 0) {
      out.add(endId);
    }
  }
}
