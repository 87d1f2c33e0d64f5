package ai.lmtrain.data.parquet;

import java.io.IOException;

/** A Parquet file that cannot be read: the message names the file and what was expected. */
public final class ParquetException extends IOException {
  /** An error whose message names the file. */
  public ParquetException(String message) {
    super(message);
  }
}
