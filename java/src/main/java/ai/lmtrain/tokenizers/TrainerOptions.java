package ai.lmtrain.tokenizers;

import java.util.List;

/**
 * Tokenizer training settings (HF trainer semantics).
 *
 * @param vocabSize target vocabulary size, special tokens and alphabet included
 * @param minFrequency stop when the most frequent pair occurs fewer times than this
 * @param limitAlphabet keep at most this many initial characters (the most frequent ones, the
 *     forced initial alphabet first); 0 = no limit
 * @param specialTokens special tokens, given the first ids in this order
 */
public record TrainerOptions(int vocabSize, int minFrequency, int limitAlphabet, List<String> specialTokens) {

  /** Validates ranges and copies the list. */
  public TrainerOptions {
    if (vocabSize <= 0) {
      throw new TokenizerException("vocab size must be positive, got " + vocabSize);
    }
    if (minFrequency < 0 || limitAlphabet < 0) {
      throw new TokenizerException("min frequency and alphabet limit must be >= 0");
    }
    specialTokens = List.copyOf(specialTokens);
  }

  /** BERT's WordPiece defaults (min frequency 2, alphabet limit 1000, [PAD] [UNK] [CLS] [SEP] [MASK]). */
  public static TrainerOptions wordPiece(int vocabSize) {
    return new TrainerOptions(vocabSize, 2, 1000, Tokenizers.BERT_SPECIAL_TOKENS);
  }

  /** GPT-2 byte-level BPE defaults (min frequency 2, full byte alphabet, {@code <|endoftext|>}). */
  public static TrainerOptions byteLevelBpe(int vocabSize) {
    return new TrainerOptions(vocabSize, 2, 0, List.of(Tokenizers.END_OF_TEXT));
  }

  /** A copy with another minimum frequency. */
  public TrainerOptions withMinFrequency(int k) {
    return new TrainerOptions(vocabSize, k, limitAlphabet, specialTokens);
  }
}
