package ai.lmtrain.tensor;

import ai.lmtrain.nativebridge.CudaDevices;
import ai.lmtrain.nativebridge.NativeCalls;
import ai.lmtrain.nativebridge.NativeException;

/**
 * The CUDA backend: the native core's CUDA kernels on one device, all work queued on the
 * context's stream. Open it with {@link #open(int)} (or {@link Backends#open(Device)}), which fails
 * with one clear message, naming the device and suggesting {@code --device cpu}, when the native
 * core was built without CUDA or the device cannot be used (no driver, no GPU, no such ordinal).
 */
public final class CudaBackend extends NativeBackend {
  /** {@code LMT_ERR_UNSUPPORTED} of {@code lmtrain.h}. */
  private static final int UNSUPPORTED = 3;

  private CudaBackend(Device device) {
    super(device);
  }

  /** The GPU's total memory, as the CUDA driver reports it (-1 when discovery fails). */
  @Override
  public long memoryBytes() {
    return CudaDevices.discover().devices().stream().filter(d -> d.index() == device().index())
        .mapToLong(CudaDevices.Info::totalMemoryBytes).findFirst().orElse(-1);
  }

  /**
   * A backend on CUDA device {@code index}.
   *
   * @throws NativeException if this native core has no CUDA backend, or the device cannot be opened
   *     (the message names the device, the reason and the {@code --device cpu} alternative)
   */
  public static CudaBackend open(int index) {
    Device device = Device.cuda(index);
    if (!NativeCalls.hasCudaBackend()) {
      throw new NativeException(UNSUPPORTED, "cannot use " + device + ": this build of the native core has no CUDA "
          + "backend (it was built without nvcc; rebuild with -Dcuda=ON on a machine with the CUDA toolkit), "
          + "or use --device cpu");
    }
    try {
      return new CudaBackend(device);
    } catch (NativeException e) {
      throw new NativeException(e.status(), "cannot use " + device + ": " + e.getMessage() + "; use --device cpu to "
          + "run on the CPU");
    }
  }
}
