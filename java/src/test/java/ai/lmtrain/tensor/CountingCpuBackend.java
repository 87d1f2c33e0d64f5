package ai.lmtrain.tensor;

/**
 * The CPU backend, counting the bytes it allocates: tests prove with it that crafted inputs fail
 * before any memory is allocated for them.
 */
public final class CountingCpuBackend extends NativeBackend {
  private long allocatedBytes;

  public CountingCpuBackend() {
    super(Device.CPU);
  }

  @Override
  public long memoryBytes() {
    return CpuBackend.hostMemoryBytes();
  }

  @Override
  public DeviceBuffer allocate(long bytes) {
    allocatedBytes += bytes;
    return super.allocate(bytes);
  }

  /** Bytes requested from {@link #allocate} so far. */
  public long allocatedBytes() {
    return allocatedBytes;
  }
}
