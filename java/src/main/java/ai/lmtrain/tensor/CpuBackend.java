package ai.lmtrain.tensor;

import ai.lmtrain.nativebridge.NativeCalls;
import java.lang.management.ManagementFactory;

/**
 * The CPU backend: the native core's C++ kernels on its thread pool (multithreaded and
 * vectorised; results do not depend on the thread count).
 */
public final class CpuBackend extends NativeBackend {

  /** A CPU backend using the native pool as configured (all cores by default). */
  public CpuBackend() {
    super(Device.CPU);
  }

  @Override
  public long memoryBytes() {
    return hostMemoryBytes();
  }

  /** The host's physical memory (the container's limit inside one), or -1 without jdk.management. */
  public static long hostMemoryBytes() {
    try {
      return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
          .getTotalMemorySize();
    } catch (LinkageError | ClassCastException e) {
      return -1;
    }
  }

  /** Sets the native pool's thread count (process-wide). */
  public static void setThreads(int threads) {
    NativeCalls.setCpuThreads(threads);
  }

  /** The native pool's thread count. */
  public static int threads() {
    return NativeCalls.cpuThreads();
  }
}
