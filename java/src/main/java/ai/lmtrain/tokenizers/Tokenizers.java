package ai.lmtrain.tokenizers;

import ai.lmtrain.io.AtomicFiles;
import ai.lmtrain.io.FileSetWriter;
import ai.lmtrain.io.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Loading and saving tokenizers in the Hugging Face file formats. */
public final class Tokenizers {

  /** BERT's special tokens, in the order the WordPiece trainer gives them ids. */
  public static final List<String> BERT_SPECIAL_TOKENS = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]");

  /** GPT-2's end-of-text token. */
  public static final String END_OF_TEXT = "<|endoftext|>";

  private static final String GPT2_RESOURCE = "/ai/lmtrain/tokenizers/gpt2/";

  /**
   * The files of a tokenizer in a folder: those {@link #save} writes, and those of a Hugging Face
   * tokenizer's {@code save_pretrained} that describe its tokens. tokenizer.json, which {@link #load}
   * reads first, comes first.
   */
  public static final List<String> FILE_NAMES = List.of("tokenizer.json", "tokenizer_config.json", "vocab.txt",
      "vocab.json", "merges.txt", "special_tokens_map.json", "added_tokens.json");

  private Tokenizers() {}

  /**
   * Loads a tokenizer. {@code path} is a {@code tokenizer.json}, a {@code vocab.txt} (BERT,
   * uncased), a {@code vocab.json} with {@code merges.txt} beside it (GPT-2), or a folder holding
   * {@code tokenizer.json}, or {@code vocab.json} + {@code merges.txt}, or {@code vocab.txt} (tried
   * in that order).
   *
   * @throws TokenizerException if the path is missing or the files are corrupt
   */
  public static Tokenizer load(Path path) {
    if (Files.isDirectory(path)) {
      if (Files.isRegularFile(path.resolve("tokenizer.json"))) {
        return loadTokenizerJson(path.resolve("tokenizer.json"));
      }
      if (Files.isRegularFile(path.resolve("vocab.json")) && Files.isRegularFile(path.resolve("merges.txt"))) {
        return loadGpt2(path.resolve("vocab.json"), path.resolve("merges.txt"));
      }
      if (Files.isRegularFile(path.resolve("vocab.txt"))) {
        return loadVocabTxt(path.resolve("vocab.txt"), true);
      }
      throw new TokenizerException(path + ": expected a folder with tokenizer.json, vocab.json + merges.txt, or vocab.txt");
    }
    if (!Files.exists(path)) {
      throw new TokenizerException(path + ": no such file or folder");
    }
    String file = path.getFileName().toString();
    if (file.equals("vocab.json")) {
      return loadGpt2(path, path.resolveSibling("merges.txt"));
    }
    if (file.endsWith(".json")) {
      return loadTokenizerJson(path);
    }
    if (file.endsWith(".txt")) {
      return loadVocabTxt(path, true);
    }
    throw new TokenizerException(path + ": expected tokenizer.json, vocab.txt, vocab.json or a folder holding them");
  }

  /** Loads a HF tokenizer.json. */
  public static Tokenizer loadTokenizerJson(Path file) {
    return TokenizerJson.parse(Utf8Lines.readString(file), file.toString());
  }

  /**
   * Loads a BERT WordPiece tokenizer from vocab.txt: BertNormalizer (lowercasing as asked), the
   * {@code [CLS]}/{@code [SEP]} template, and those of {@link #BERT_SPECIAL_TOKENS} present as
   * special added tokens.
   */
  public static WordPieceTokenizer loadVocabTxt(Path file, boolean lowercase) {
    try (InputStream in = open(file)) {
      return bert(VocabFiles.readVocabTxt(in, file.toString()), lowercase, file.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A BERT tokenizer over a vocabulary (see {@link #loadVocabTxt}). */
  public static WordPieceTokenizer bert(Map<String, Integer> vocab, boolean lowercase, String source) {
    List<AddedToken> added = new ArrayList<>();
    for (String t : BERT_SPECIAL_TOKENS) {
      if (vocab.containsKey(t)) {
        added.add(new AddedToken(vocab.get(t), t, true));
      }
    }
    return new WordPieceTokenizer(vocab, added, new BertNormalizer(true, true, null, lowercase), "[UNK]", "##",
        WordPieceTokenizer.DEFAULT_MAX_INPUT_CHARS_PER_WORD, "[CLS]", "[SEP]", source);
  }

  /** Loads GPT-2's vocab.json + merges.txt; {@code <|endoftext|>} (if present) is a special token. */
  public static ByteLevelBpeTokenizer loadGpt2(Path vocabJson, Path mergesTxt) {
    try (InputStream v = open(vocabJson); InputStream m = open(mergesTxt)) {
      return gpt2(v, m, vocabJson.toString(), mergesTxt.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** GPT-2's own tokenizer, from the copy bundled in the jar. */
  public static ByteLevelBpeTokenizer gpt2() {
    try (InputStream v = resource(GPT2_RESOURCE + "vocab.json"); InputStream m = resource(GPT2_RESOURCE + "merges.txt")) {
      return gpt2(v, m, "bundled gpt2/vocab.json", "bundled gpt2/merges.txt");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ByteLevelBpeTokenizer gpt2(InputStream vocabIn, InputStream mergesIn, String vocabName, String mergesName) {
    Map<String, Integer> vocab = VocabFiles.readVocabJson(vocabIn, vocabName);
    List<String[]> merges = VocabFiles.readMerges(mergesIn, mergesName);
    List<AddedToken> added = vocab.containsKey(END_OF_TEXT)
        ? List.of(new AddedToken(vocab.get(END_OF_TEXT), END_OF_TEXT, true)) : List.of();
    return ByteLevelBpeTokenizer.of(vocab, merges, added, vocabName + " + " + mergesName);
  }

  /**
   * The SHA-256 (lowercase hex) of the tokenizer.json that {@link #save} writes for {@code tok}: the
   * same for a tokenizer however it was loaded (tokenizer.json, vocab.txt, vocab.json + merges.txt),
   * different for any change of vocabulary, merges, added tokens, normalizer or post-processor.
   */
  public static String sha256(Tokenizer tok) {
    return Sha256.hex(TokenizerJson.write(tok).getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /**
   * Saves {@code tokenizer.json}, {@code tokenizer_config.json} and the legacy files
   * ({@code vocab.txt}, or {@code vocab.json} + {@code merges.txt}) into {@code dir}, atomically
   * per file.
   */
  public static void save(Tokenizer tok, Path dir) {
    write(dir.resolve("tokenizer.json"), TokenizerJson.write(tok));
    write(dir.resolve("tokenizer_config.json"), TokenizerJson.writeConfig(tok));
    if (tok instanceof WordPieceTokenizer wp) {
      write(dir.resolve("vocab.txt"), VocabFiles.writeVocabTxt(wp.tokens()));
    } else if (tok instanceof ByteLevelBpeTokenizer bpe) {
      write(dir.resolve("vocab.json"), VocabFiles.writeVocabJson(bpe.tokens()));
      write(dir.resolve("merges.txt"), VocabFiles.writeMerges(bpe.merges()));
    }
  }

  /**
   * Saves {@code tok} into {@code dir} as {@link #save} does, replacing the tokenizer files there
   * ({@link #FILE_NAMES}; those this tokenizer does not use are removed) all or nothing, also across a
   * crash, and leaving every other file of {@code dir} as it is (see {@link FileSetWriter}). A
   * replacement a crash interrupted is finished by the next one into {@code dir}.
   *
   * @throws java.nio.file.FileSystemException when a tokenizer file in {@code dir} is a symbolic link
   */
  public static void replace(Tokenizer tok, Path dir) throws IOException {
    FileSetWriter.write(dir, "tokenizer", FILE_NAMES, staging -> save(tok, staging));
  }

  /** One file of a save, replaced atomically; a failure is a TokenizerException naming the file. */
  private static void write(Path file, String text) {
    try {
      AtomicFiles.writeString(file, text);
    } catch (IOException e) {
      throw new TokenizerException(file + ": cannot write (" + e.getMessage() + ")", e);
    }
  }

  private static InputStream open(Path file) {
    try {
      return Files.newInputStream(file);
    } catch (NoSuchFileException e) {
      throw new TokenizerException(file + ": no such file");
    } catch (IOException e) {
      throw new TokenizerException(file + ": cannot read (" + e.getMessage() + ")", e);
    }
  }

  private static InputStream resource(String name) {
    InputStream in = Tokenizers.class.getResourceAsStream(name);
    if (in == null) {
      throw new TokenizerException("bundled resource " + name + " is missing from the jar");
    }
    return in;
  }
}
