package ai.lmtrain.data.parquet;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** The Parquet fixtures for tests of other packages. */
public final class ParquetStringReaderTestAccess {
  private ParquetStringReaderTestAccess() {}

  /** Copies fixture {@code name} into {@code dir}. */
  public static Path fixture(Path dir, String name) throws IOException {
    return ParquetStringReaderTest.fixture(dir, name);
  }

  /** The fixtures' rows, null for a null value. */
  public static List<String> rows() throws IOException {
    return ParquetStringReaderTest.expectedRows();
  }
}
