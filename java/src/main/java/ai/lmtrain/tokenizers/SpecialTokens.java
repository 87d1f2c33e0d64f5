package ai.lmtrain.tokenizers;

import java.util.ArrayList;
import java.util.List;

/**
 * The roles of a tokenizer's special tokens, as in Hugging Face's {@code special_tokens_map.json}.
 * Any role may be {@code null} when the tokenizer has no such token (GPT-2 has no pad, cls, sep,
 * mask or unk token).
 */
public record SpecialTokens(
    String unk, String pad, String cls, String sep, String mask, String bos, String eos) {

  /** The BERT roles: {@code [UNK] [PAD] [CLS] [SEP] [MASK]}, no bos/eos. */
  public static SpecialTokens bert() {
    return new SpecialTokens("[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]", null, null);
  }

  /** The GPT-2 roles: {@code eos} (and {@code bos}) is the given token, everything else absent. */
  public static SpecialTokens gpt2(String endOfText) {
    return new SpecialTokens(null, null, null, null, null, endOfText, endOfText);
  }

  /** The distinct non-null tokens, in role order (unk, pad, cls, sep, mask, bos, eos). */
  public List<String> all() {
    List<String> out = new ArrayList<>();
    for (String t : new String[] {unk, pad, cls, sep, mask, bos, eos}) {
      if (t != null && !out.contains(t)) {
        out.add(t);
      }
    }
    return out;
  }
}
