package ai.lmtrain.bench;

import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.DeviceBuffer;
import ai.lmtrain.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Benchmark tensors on one backend, each in its own allocation, all freed by {@link #close()}. */
final class Scratch implements AutoCloseable {
  private static final int CHUNK = 1 << 24;

  private final Backend backend;
  private final SplittableRandom random;
  private final List<DeviceBuffer> buffers = new ArrayList<>();

  Scratch(Backend backend, long seed) {
    this.backend = backend;
    this.random = new SplittableRandom(seed);
  }

  /** Uninitialised memory. */
  Tensor empty(DType dtype, long... shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    DeviceBuffer buffer = backend.allocate(n * dtype.bytes());
    buffers.add(buffer);
    return buffer.tensor(dtype, shape);
  }

  /** Uniform values in [-1, 1) (float types), uploaded in chunks of at most {@value #CHUNK} elements. */
  Tensor uniform(DType dtype, long... shape) {
    Tensor t = empty(dtype, shape);
    for (long start = 0; start < t.numel(); start += CHUNK) {
      float[] values = new float[(int) Math.min(CHUNK, t.numel() - start)];
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) (2 * random.nextDouble() - 1);
      }
      backend.upload(t.slice(start, values.length), values);
    }
    return t;
  }

  /** A float tensor filled with {@code value}. */
  Tensor filled(DType dtype, float value, long... shape) {
    Tensor t = empty(dtype, shape);
    float[] values = new float[Math.toIntExact(t.numel())];
    java.util.Arrays.fill(values, value);
    backend.upload(t, values);
    return t;
  }

  /** I32 values uniform in [0, bound). */
  Tensor ints(int bound, long... shape) {
    Tensor t = empty(DType.I32, shape);
    int[] values = new int[Math.toIntExact(t.numel())];
    for (int i = 0; i < values.length; i++) {
      values[i] = random.nextInt(bound);
    }
    backend.upload(t, values);
    return t;
  }

  @Override
  public void close() {
    for (int i = buffers.size() - 1; i >= 0; i--) {
      buffers.get(i).close();
    }
    buffers.clear();
  }
}
