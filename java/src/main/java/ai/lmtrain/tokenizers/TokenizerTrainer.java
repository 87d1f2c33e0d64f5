package ai.lmtrain.tokenizers;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Trains tokenizers from UTF-8 text files (HF semantics): a GPT-2 style byte-level BPE, or a
 * BERT WordPiece vocabulary (BPE training over BERT-normalized, BERT-pre-tokenized words with the
 * {@code ##} continuation prefix, keeping only the vocabulary).
 */
public final class TokenizerTrainer {

  private TokenizerTrainer() {}

  /**
   * Trains a byte-level BPE tokenizer. Each line is trained on with its newline.
   *
   * @throws TokenizerException for missing files, invalid UTF-8, an empty corpus or a vocab size
   *     below the 256 byte characters plus the special tokens
   */
  public static ByteLevelBpeTokenizer trainByteLevelBpe(List<Path> corpus, TrainerOptions options) {
    Map<String, Long> counts = new HashMap<>();
    forEachLine(corpus, line -> {
      String text = line + "\n";
      for (int pos = 0; pos < text.length(); ) {
        int end = Gpt2PreTokenizer.next(text, pos, text.length());
        counts.merge(ByteLevel.encode(text.substring(pos, end)), 1L, Long::sum);
        pos = end;
      }
    });
    BpeTrainer.Result r = BpeTrainer.train(requireWords(counts, corpus), ByteLevel.alphabet(), "", options);
    return ByteLevelBpeTokenizer.of(ids(r.vocab()), r.merges(), specials(options), "trained BPE");
  }

  /**
   * Trains a WordPiece tokenizer with the uncased BERT normalizer. The special tokens must include
   * {@code [UNK]}; {@code [CLS]}/{@code [SEP]} enable the usual post-processing.
   *
   * @throws TokenizerException as for {@link #trainByteLevelBpe}, or if {@code [UNK]} is missing
   */
  public static WordPieceTokenizer trainWordPiece(List<Path> corpus, TrainerOptions options) {
    if (!options.specialTokens().contains("[UNK]")) {
      throw new TokenizerException("WordPiece training needs [UNK] among the special tokens, got " + options.specialTokens());
    }
    BertNormalizer normalizer = BertNormalizer.uncased();
    Map<String, Long> counts = new HashMap<>();
    forEachLine(corpus, line -> {
      String text = normalizer.normalize(line);
      BertPreTokenizer.split(text, (s, e) -> counts.merge(text.substring(s, e), 1L, Long::sum));
    });
    BpeTrainer.Result r = BpeTrainer.train(requireWords(counts, corpus), "", "##", options);
    List<String> sp = options.specialTokens();
    return new WordPieceTokenizer(ids(r.vocab()), specials(options), normalizer, "[UNK]", "##",
        WordPieceTokenizer.DEFAULT_MAX_INPUT_CHARS_PER_WORD, sp.contains("[CLS]") ? "[CLS]" : null,
        sp.contains("[SEP]") ? "[SEP]" : null, "trained WordPiece");
  }

  private static void forEachLine(List<Path> corpus, Consumer<String> sink) {
    if (corpus.isEmpty()) {
      throw new TokenizerException("no corpus files given");
    }
    for (Path file : corpus) {
      Utf8Lines.forEach(file, (line, n) -> sink.accept(line));
    }
  }

  private static Map<String, Long> requireWords(Map<String, Long> counts, List<Path> corpus) {
    if (counts.isEmpty() || counts.keySet().stream().allMatch(w -> w.equals(ByteLevel.encode("\n")))) {
      throw new TokenizerException(corpus + ": the corpus is empty, expected UTF-8 text");
    }
    return new TreeMap<>(counts);
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
