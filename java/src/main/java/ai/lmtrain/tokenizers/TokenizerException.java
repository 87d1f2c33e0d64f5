package ai.lmtrain.tokenizers;

/**
 * A problem a user can cause with tokenizer input: a missing or corrupt vocabulary file, a bad
 * corpus, impossible training or encoding options. The message is one line naming the file (and
 * line, where known) and what was expected.
 */
public class TokenizerException extends RuntimeException {

  /** Creates an exception with a one-line message. */
  public TokenizerException(String message) {
    super(message);
  }

  /** Creates an exception with a one-line message and the underlying cause. */
  public TokenizerException(String message, Throwable cause) {
    super(message, cause);
  }
}
