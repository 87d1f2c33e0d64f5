package ai.lmtrain.tokenizers;

import java.net.URISyntaxException;
import java.nio.file.Path;

/** Paths of resources on the test class path (bundled data and test-only copies; nothing reads ../shared). */
public final class TestData {

  private TestData() {}

  /** A test resource as a path, e.g. {@code "ai/lmtrain/tokenizers/gpt2/vocab.json"}. */
  public static Path resource(String name) {
    try {
      return Path.of(TestData.class.getResource("/" + name).toURI());
    } catch (URISyntaxException | NullPointerException e) {
      throw new IllegalStateException("missing test resource " + name, e);
    }
  }

  private static ByteLevelBpeTokenizer gpt2;
  private static WordPieceTokenizer bert;

  /** GPT-2 loaded from the test copies of vocab.json + merges.txt (shared, immutable). */
  public static synchronized ByteLevelBpeTokenizer gpt2() {
    if (gpt2 == null) {
      gpt2 = Tokenizers.loadGpt2(resource("ai/lmtrain/tokenizers/gpt2/vocab.json"), resource("ai/lmtrain/tokenizers/gpt2/merges.txt"));
    }
    return gpt2;
  }

  /** bert-base-uncased from vocab.txt (shared, immutable). */
  public static synchronized WordPieceTokenizer bert() {
    if (bert == null) {
      bert = Tokenizers.loadVocabTxt(resource("bert-base-uncased/vocab.txt"), true);
    }
    return bert;
  }
}
