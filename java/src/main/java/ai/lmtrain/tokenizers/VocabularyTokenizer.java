package ai.lmtrain.tokenizers;

import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;

/** What WordPiece and byte-level BPE share: the vocabulary lookups, added tokens and saving. */
abstract class VocabularyTokenizer implements Tokenizer {
  protected final Vocabulary vocab;

  VocabularyTokenizer(Vocabulary vocab) {
    this.vocab = vocab;
  }

  @Override
  public int vocabSize() {
    return vocab.size();
  }

  @Override
  public OptionalInt tokenToId(String token) {
    return vocab.id(token);
  }

  @Override
  public String idToToken(int id) {
    return vocab.token(id);
  }

  @Override
  public List<AddedToken> addedTokens() {
    return vocab.added();
  }

  /** The tokens in id order. */
  public String[] tokens() {
    return vocab.tokens();
  }

  @Override
  public void save(Path dir) {
    Tokenizers.save(this, dir);
  }
}
