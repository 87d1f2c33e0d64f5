package ai.lmtrain.tensor;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/**
 * Base of tests that run on one shared CPU backend with an activation arena (1 MiB blocks, larger
 * requests get a block of their own), reset after every test.
 */
public abstract class CpuBackendTest {
  protected static CpuBackend backend;
  protected static Arena arena;

  @BeforeAll
  static void openCpuBackend() {
    backend = new CpuBackend();
    arena = new Arena(backend, 1 << 20);
  }

  @AfterEach
  void releaseTensors() {
    arena.reset();
  }

  @AfterAll
  static void closeCpuBackend() {
    arena.close();
    backend.close();
  }
}
