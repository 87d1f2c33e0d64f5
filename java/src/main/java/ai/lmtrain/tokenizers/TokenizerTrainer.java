package ai.lmtrain.tokenizers;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Trains tokenizers from UTF-8 text files (HF semantics): a GPT-2 style byte-level BPE, or a
 * BERT WordPiece vocabulary (BPE training over BERT-normalized, BERT-pre-tokenized words with the
 * {@code ##} continuation prefix, keeping only the vocabulary).
 */
public final class TokenizerTrainer {

  private TokenizerTrainer() {}

  /** The most distinct pre-tokens counted at once by default (about 100 MB of heap); see {@link PreTokenCounts}. */
  public static final int DEFAULT_MAX_WORDS = 1_000_000;

  /** Training texts, streamed: {@link #forEach} hands every text to the sink, in order. */
  @FunctionalInterface
  public interface TextStream {
    /**
     * Streams the texts.
     *
     * @throws java.io.IOException if the source cannot be read
     */
    void forEach(Consumer<String> sink) throws java.io.IOException;
  }

  /**
   * What a training run counted, for reports.
   *
   * @param tokenizer the trained tokenizer
   * @param prunes how often the pre-token table was pruned at its cap (0: exact counts)
   * @param pruneThreshold the highest count a prune dropped
   */
  public record Trained<T extends Tokenizer>(T tokenizer, int prunes, long pruneThreshold) {}

  /**
   * Trains a byte-level BPE tokenizer. Each line is trained on with its newline.
   *
   * @throws TokenizerException for missing files, invalid UTF-8, an empty corpus or a vocab size
   *     below the 256 byte characters plus the special tokens
   */
  public static ByteLevelBpeTokenizer trainByteLevelBpe(List<Path> corpus, TrainerOptions options) {
    return trainByteLevelBpe(lines(corpus, "\n"), corpus.toString(), options, DEFAULT_MAX_WORDS).tokenizer();
  }

  /**
   * Trains a byte-level BPE tokenizer on streamed texts (each text as it is), counting at most
   * {@code maxWords} distinct pre-tokens at once.
   *
   * @param name the corpus as named in errors
   * @throws TokenizerException as for {@link #trainByteLevelBpe(List, TrainerOptions)}, or if the
   *     stream fails
   */
  public static Trained<ByteLevelBpeTokenizer> trainByteLevelBpe(TextStream texts, String name,
      TrainerOptions options, int maxWords) {
    PreTokenCounts counts = new PreTokenCounts(maxWords);
    stream(texts, text -> {
      for (int pos = 0; pos < text.length(); ) {
        int end = Gpt2PreTokenizer.next(text, pos, text.length());
        counts.add(ByteLevel.encode(text.substring(pos, end)));
        pos = end;
      }
    });
    BpeTrainer.Result r = BpeTrainer.train(requireWords(counts, name), ByteLevel.alphabet(), "", options);
    return new Trained<>(ByteLevelBpeTokenizer.of(ids(r.vocab()), r.merges(), specials(options), "trained BPE"),
        counts.prunes(), counts.pruneThreshold());
  }

  /**
   * Trains a WordPiece tokenizer with the uncased BERT normalizer. The special tokens must include
   * {@code [UNK]}; {@code [CLS]}/{@code [SEP]} enable the usual post-processing.
   *
   * @throws TokenizerException as for {@link #trainByteLevelBpe}, or if {@code [UNK]} is missing
   */
  public static WordPieceTokenizer trainWordPiece(List<Path> corpus, TrainerOptions options) {
    return trainWordPiece(lines(corpus, ""), corpus.toString(), options, DEFAULT_MAX_WORDS).tokenizer();
  }

  /** Trains a WordPiece tokenizer on streamed texts, counting at most {@code maxWords} distinct words at once. */
  public static Trained<WordPieceTokenizer> trainWordPiece(TextStream texts, String name, TrainerOptions options,
      int maxWords) {
    if (!options.specialTokens().contains("[UNK]")) {
      throw new TokenizerException("WordPiece training needs [UNK] among the special tokens, got " + options.specialTokens());
    }
    BertNormalizer normalizer = BertNormalizer.uncased();
    PreTokenCounts counts = new PreTokenCounts(maxWords);
    stream(texts, line -> {
      String text = normalizer.normalize(line);
      BertPreTokenizer.split(text, (s, e) -> counts.add(text.substring(s, e)));
    });
    BpeTrainer.Result r = BpeTrainer.train(requireWords(counts, name), "", "##", options);
    List<String> sp = options.specialTokens();
    return new Trained<>(new WordPieceTokenizer(ids(r.vocab()), specials(options), normalizer, "[UNK]", "##",
        WordPieceTokenizer.DEFAULT_MAX_INPUT_CHARS_PER_WORD, sp.contains("[CLS]") ? "[CLS]" : null,
        sp.contains("[SEP]") ? "[SEP]" : null, "trained WordPiece"), counts.prunes(), counts.pruneThreshold());
  }

  /** Every line of the files, each followed by {@code suffix}. */
  private static TextStream lines(List<Path> corpus, String suffix) {
    return sink -> {
      if (corpus.isEmpty()) {
        throw new TokenizerException("no corpus files given");
      }
      for (Path file : corpus) {
        Utf8Lines.forEach(file, (line, n) -> sink.accept(suffix.isEmpty() ? line : line + suffix));
      }
    };
  }

  private static void stream(TextStream texts, Consumer<String> sink) {
    try {
      texts.forEach(sink);
    } catch (java.io.IOException e) {
      throw new TokenizerException(e.getMessage(), e);
    }
  }

  private static Map<String, Long> requireWords(PreTokenCounts counts, String corpus) {
    Map<String, Long> sorted = counts.sorted();
    if (sorted.isEmpty() || sorted.keySet().stream().allMatch(w -> w.equals(ByteLevel.encode("\n")))) {
      throw new TokenizerException(corpus + ": the corpus is empty, expected UTF-8 text");
    }
    return sorted;
  }

  private static Map<String, Integer> ids(List<String> vocab) {
    Map<String, Integer> ids = new LinkedHashMap<>();
    for (int i = 0; i < vocab.size(); i++) {
      ids.put(vocab.get(i), i);
    }
    return ids;
  }

  private static List<AddedToken> specials(TrainerOptions options) {
    List<AddedToken> out = new ArrayList<>();
    for (int i = 0; i < options.specialTokens().size(); i++) {
      out.add(new AddedToken(i, options.specialTokens().get(i), true));
    }
    return out;
  }
}
