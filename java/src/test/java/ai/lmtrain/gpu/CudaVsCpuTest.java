package ai.lmtrain.gpu;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import ai.lmtrain.nativebridge.CudaDevices;
import ai.lmtrain.nativebridge.NativeCalls;
import ai.lmtrain.nativebridge.NativeOutOfMemoryException;
import ai.lmtrain.selftest.BackendComparison;
import ai.lmtrain.selftest.CaseResult;
import ai.lmtrain.selftest.OpSuite;
import ai.lmtrain.tensor.CpuBackend;
import ai.lmtrain.tensor.CudaBackend;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every CUDA kernel against the CPU kernel on the same inputs: one dynamic test per
 * {@link OpSuite} case, named "op dtype case", with the tolerances of
 * {@link ai.lmtrain.selftest.Tolerance} and guard bytes around every tensor. Runs on CUDA device 0;
 * skipped (not failed) when the native core has no CUDA backend or no CUDA device is present.
 */
@Tag("gpu")
class CudaVsCpuTest {
  private static CpuBackend cpu;
  private static CudaBackend cuda;

  /**
   * Opens the backends on first use; skips the calling test (an aborted, i.e. skipped, test rather
   * than a failure) without a CUDA build or a CUDA device.
   */
  private static void requireCuda() {
    assumeTrue(NativeCalls.hasCudaBackend(), "the native core was built without its CUDA backend");
    CudaDevices.Discovery found = CudaDevices.discover();
    assumeFalse(found.devices().isEmpty(), () -> "no CUDA device: " + found.problem());
    if (cuda == null) {
      cpu = new CpuBackend();
      cuda = CudaBackend.open(0);
    }
  }

  @AfterAll
  static void close() {
    if (cuda != null) {
      cuda.close();
    }
    if (cpu != null) {
      cpu.close();
    }
  }

  @TestFactory
  Stream<DynamicTest> everyKernelMatchesTheCpu() {
    return OpSuite.all().stream().map(c -> dynamicTest(c.id(), () -> {
      requireCuda(); // in each test, so that without a GPU every case is reported as skipped
      CaseResult r = new BackendComparison(cpu, cuda).run(c);
      assertTrue(r.passed(), () -> String.format("%s: %s (worst output %s: max abs %.3e, max rel %.3e, tolerance %.1e)",
          r.id(), r.problem(), r.tensor(), r.maxAbsError(), r.maxRelError(), r.tolerance()));
    }));
  }

  @Test
  void outOfMemoryNamesTheRequestedSize() {
    requireCuda();
    long petabyte = 1L << 50;
    NativeOutOfMemoryException e = assertThrows(NativeOutOfMemoryException.class, () -> cuda.allocate(petabyte));
    assertTrue(e.getMessage().contains(Long.toString(petabyte)), e.getMessage());
    assertTrue(e.getMessage().contains("cuda:0"), e.getMessage());
  }
}
