package ai.lmtrain.tensor;

/** Opens the {@link Backend} of a {@link Device}. */
public final class Backends {
  private Backends() {}

  /**
   * A new backend on {@code device}: a {@link CpuBackend} for the CPU, a {@link CudaBackend} for a
   * CUDA device. The caller closes it.
   *
   * @throws ai.lmtrain.nativebridge.NativeException if a CUDA device cannot be used (see {@link CudaBackend#open})
   */
  public static Backend open(Device device) {
    return switch (device.kind()) {
      case CPU -> new CpuBackend();
      case CUDA -> CudaBackend.open(device.index());
    };
  }
}
