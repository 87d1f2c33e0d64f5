package ai.lmtrain.data.corpus;

import java.io.IOException;

/**
 * A corpus file that cannot be read as asked: missing, not matching a glob, corrupt compression,
 * invalid UTF-8, a JSONL line that is not JSON or lacks the text field. The message names the file
 * (and line or row) and what was expected.
 */
public final class CorpusException extends IOException {
  /** An error whose message names the file. */
  public CorpusException(String message) {
    super(message);
  }

  /** The same, keeping the low-level cause. */
  public CorpusException(String message, Throwable cause) {
    super(message, cause);
  }
}
