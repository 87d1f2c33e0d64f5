package ai.lmtrain.tokenizers;

import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;

/**
 * A text tokenizer with Hugging Face semantics: {@link WordPieceTokenizer} (BERT) or
 * {@link ByteLevelBpeTokenizer} (GPT-2). Implementations supply the model ({@link #tokenize}),
 * the post-processor and the vocabulary; encoding options (special tokens, truncation, overflow,
 * padding) are shared. Implementations are immutable and safe to use from several threads.
 */
public interface Tokenizer {

  /** The model type as written in tokenizer.json: {@code "WordPiece"} or {@code "BPE"}. */
  String modelType();

  /**
   * Tokenizes a text with the model only: added special tokens found in the text are matched, but
   * no post-processing tokens are added.
   *
   * @param text the text
   * @param withOffsets whether to compute character offsets into {@code text}
   */
  TokenSequence tokenize(String text, boolean withOffsets);

  /**
   * The ids of {@link #tokenize}{@code (text, false)} and nothing else (no post-processing);
   * implementations may compute them without building token strings.
   */
  default int[] encodeIds(String text) {
    return tokenize(text, false).ids();
  }

  /**
   * Appends the ids of {@link #encodeIds(String)} to {@code out}: the form for encoding many texts
   * into one buffer (prepare-data's batches) without an array per text.
   */
  default void encodeIds(String text, IdBuffer out) {
    out.addAll(encodeIds(text));
  }

  /** The special tokens added by {@link EncodeOptions#addSpecialTokens()}. */
  PostProcessor postProcessor();

  /**
   * Decodes ids back to text.
   *
   * @param ids token ids
   * @param skipSpecialTokens drop special tokens (HF {@code skip_special_tokens})
   * @throws TokenizerException for an id outside the vocabulary
   */
  String decode(int[] ids, boolean skipSpecialTokens);

  /** Number of ids (model vocabulary plus added tokens). */
  int vocabSize();

  /** The id of a token string, if it is in the vocabulary. */
  OptionalInt tokenToId(String token);

  /**
   * The token string of an id.
   *
   * @throws TokenizerException for an id outside {@code [0, vocabSize)}
   */
  String idToToken(int id);

  /** The roles of the special tokens. */
  SpecialTokens specialTokens();

  /** Tokens matched literally in text (special tokens), in id order. */
  List<AddedToken> addedTokens();

  /**
   * Saves {@code tokenizer.json}, {@code tokenizer_config.json} and the legacy vocabulary files
   * ({@code vocab.txt}, or {@code vocab.json} and {@code merges.txt}) into a folder, creating it;
   * every file is written atomically.
   */
  void save(Path dir);

  /** The ids of all special tokens (never masked by the MLM collator). */
  default int[] specialTokenIds() {
    return addedTokens().stream().filter(AddedToken::special).mapToInt(AddedToken::id).toArray();
  }

  /** Decodes ids keeping special tokens. */
  default String decode(int[] ids) {
    return decode(ids, false);
  }

  /** Encodes a text with special tokens and no truncation or padding. */
  default Encoding encode(String text) {
    return encode(text, EncodeOptions.defaults());
  }

  /** Encodes one text. */
  default Encoding encode(String text, EncodeOptions options) {
    return EncodingAssembler.encode(this, text, null, options);
  }

  /** Encodes a text pair ({@code [CLS] A [SEP] B [SEP]} for BERT; type ids 0 then 1). */
  default Encoding encodePair(String text, String pair, EncodeOptions options) {
    return EncodingAssembler.encode(this, text, pair, options);
  }

  /** Encodes a batch of texts; {@link EncodeOptions.Padding#LONGEST} pads to the longest row. */
  default BatchEncoding encodeBatch(List<String> texts, EncodeOptions options) {
    return EncodingAssembler.encodeBatch(this, texts, null, options);
  }

  /** Encodes a batch of text pairs. */
  default BatchEncoding encodePairBatch(List<String> texts, List<String> pairs, EncodeOptions options) {
    return EncodingAssembler.encodeBatch(this, texts, pairs, options);
  }
}
