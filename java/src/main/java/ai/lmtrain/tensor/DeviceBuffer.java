package ai.lmtrain.tensor;

/**
 * One allocation of device memory (host memory for the CPU backend), freed by {@link #close()}.
 * Parameters, gradients and optimizer state each live in one buffer; tensors are views into it.
 */
public final class DeviceBuffer implements AutoCloseable {
  private final Backend backend;
  private final long bytes;
  private long address;

  DeviceBuffer(Backend backend, long address, long bytes) {
    this.backend = backend;
    this.address = address;
    this.bytes = bytes;
  }

  /** Size in bytes. */
  public long bytes() {
    return bytes;
  }

  /** The whole buffer as a tensor of {@code dtype} with {@code shape} (must fit). */
  public Tensor tensor(DType dtype, long... shape) {
    return at(0, dtype, shape);
  }

  /** A tensor starting {@code byteOffset} bytes into the buffer. */
  public Tensor at(long byteOffset, DType dtype, long... shape) {
    if (address == 0) {
      throw new IllegalStateException("buffer is closed");
    }
    Tensor t = new Tensor(address + byteOffset, shape, dtype, backend.device());
    if (byteOffset < 0 || byteOffset + t.bytes() > bytes) {
      throw new IllegalArgumentException("tensor " + Tensor.shapeString(shape) + " " + dtype + " at byte " + byteOffset
          + " does not fit a buffer of " + bytes + " bytes");
    }
    return t;
  }

  @Override
  public void close() {
    if (address != 0) {
      backend.free(address);
      address = 0;
    }
  }
}
