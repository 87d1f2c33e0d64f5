package ai.lmtrain.tensor;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** Base of tests that run on one shared CPU backend with a 1 MiB-block activation arena. */
public abstract class CpuBackendTest {
  protected static CpuBackend backend;
  protected static Arena arena;

  @BeforeAll
  static void openCpuBackend() {
    backend = new CpuBackend();
    arena = new Arena(backend, 1 << 20);
  }

  @AfterAll
  static void closeCpuBackend() {
    arena.close();
    backend.close();
  }
}
