package ai.lmtrain.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.nativebridge.NativeException;
import org.junit.jupiter.api.Test;

/** {@link Backends#open} picks the backend by device; an unusable CUDA device is one clear error. */
class BackendsTest {

  @Test
  void cpuDeviceOpensTheCpuBackend() {
    try (Backend b = Backends.open(Device.CPU)) {
      assertInstanceOf(CpuBackend.class, b);
      assertEquals(Device.CPU, b.device());
    }
  }

  /** Ordinal 99 exists nowhere: without CUDA in the build, without a GPU, or with a few GPUs it fails alike. */
  @Test
  void unusableCudaDeviceNamesTheDeviceAndSuggestsTheCpu() {
    NativeException e = assertThrows(NativeException.class, () -> Backends.open(Device.cuda(99)));
    assertTrue(e.getMessage().startsWith("cannot use cuda:99: "), e.getMessage());
    assertTrue(e.getMessage().contains("--device cpu"), e.getMessage());
  }
}
