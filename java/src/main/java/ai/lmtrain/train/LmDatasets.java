package ai.lmtrain.train;

import ai.lmtrain.data.Batch;
import ai.lmtrain.data.ChunkedDataset;
import ai.lmtrain.data.ClmCollator;
import ai.lmtrain.data.Collator;
import ai.lmtrain.data.EncodedDataset;
import ai.lmtrain.data.MlmCollator;
import ai.lmtrain.data.SlidingWindowDataset;
import ai.lmtrain.data.TokenDataset;
import ai.lmtrain.models.ModelInput;
import ai.lmtrain.tokenizers.EncodeOptions;
import ai.lmtrain.tokenizers.Tokenizer;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;

/** Language-modelling datasets and collators from texts: what training and evaluation read. */
public final class LmDatasets {
  private LmDatasets() {}

  /** How texts become examples. */
  public enum Mode {
    /** One example per text, truncated to the context length, padded per batch. */
    LINES,
    /** All texts, each ended by a newline, concatenated and cut into full context-length blocks (remainder dropped). */
    CHUNKS,
    /** All texts, each ended by a newline, concatenated; context-length windows every {@code stride} tokens. */
    SLIDING;

    /** Parses "lines", "chunks" or "sliding". */
    public static Mode parse(String text) {
      try {
        return valueOf(text.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("unknown dataset mode '" + text + "' (expected lines, chunks or sliding)");
      }
    }
  }

  /**
   * The examples of {@code texts}: BERT ({@code mlm}) inputs carry the tokenizer's special tokens
   * in lines mode, GPT-2 inputs none (as Hugging Face's GPT-2 tokenizer adds none).
   */
  public static TokenDataset dataset(Tokenizer tokenizer, List<String> texts, Mode mode, int contextLength, int stride,
      boolean mlm) {
    if (mode == Mode.LINES) {
      return new EncodedDataset(tokenizer, texts, contextLength, mlm);
    }
    EncodeOptions plain = EncodeOptions.defaults().withAddSpecialTokens(false);
    // Lines lost their newline when read; give it back so a concatenated stream keeps line breaks
    // (a byte-level BPE encodes it; WordPiece treats it as whitespace).
    List<int[]> encoded = texts.stream().map(t -> tokenizer.encode(t + "\n", plain).ids()).toList();
    if (mode == Mode.CHUNKS) {
      return new ChunkedDataset(encoded, contextLength);
    }
    int[] all = new int[encoded.stream().mapToInt(a -> a.length).sum()];
    int at = 0;
    for (int[] ids : encoded) {
      System.arraycopy(ids, 0, all, at, ids.length);
      at += ids.length;
    }
    return new SlidingWindowDataset(all, contextLength, stride);
  }

  /** The MLM collator (BERT) with {@code mlmProbability}, or the CLM collator (GPT-2). */
  public static Collator collator(Tokenizer tokenizer, boolean mlm, double mlmProbability) {
    return mlm ? MlmCollator.forTokenizer(tokenizer).withProbability(mlmProbability)
        : new ClmCollator(padId(tokenizer), 0);
  }

  /**
   * The positions of {@code batch} a loss is taken at: labels other than -100, where a causal model
   * ({@code mlm} false) scores position t against the label at t + 1, so a row's first label is
   * never scored.
   */
  public static long scoredPositions(Batch batch, boolean mlm) {
    long n = 0;
    int[] labels = batch.labels();
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] != ModelInput.IGNORE_INDEX && (mlm || i % batch.seqLen() != 0)) {
        n++;
      }
    }
    return n;
  }

  /** The pad id for CLM batches: the pad token, else end-of-text (labels are masked by position), else 0. */
  static int padId(Tokenizer tokenizer) {
    for (String token : new String[] {tokenizer.specialTokens().pad(), tokenizer.specialTokens().eos()}) {
      OptionalInt id = token == null ? OptionalInt.empty() : tokenizer.tokenToId(token);
      if (id.isPresent()) {
        return id.getAsInt();
      }
    }
    return 0;
  }
}
