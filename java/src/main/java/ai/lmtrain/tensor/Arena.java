package ai.lmtrain.tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * A bump allocator for activations: {@link #allocate} hands out 256-byte aligned tensors from
 * large blocks, {@link #reset()} makes all of it reusable at once (once per training step), and
 * {@link #close()} frees the blocks. After a reset that followed growth, the blocks are merged into
 * one of the high-water size, so a steady state uses a single block. {@link #mark()} and
 * {@link #rewind} release, stack-like, what was allocated since a point (a backward step's
 * temporaries).
 */
public final class Arena implements AutoCloseable {
  private static final long ALIGN = 256;

  private final Backend backend;
  private final long minBlockBytes;
  private final List<DeviceBuffer> blocks = new ArrayList<>();
  private int current;
  private long used;
  private long inUse;
  private long highWater;

  /** An arena on {@code backend} whose blocks are at least {@code minBlockBytes}. */
  public Arena(Backend backend, long minBlockBytes) {
    this.backend = backend;
    this.minBlockBytes = Math.max(ALIGN, minBlockBytes);
  }

  /** A tensor of uninitialised memory, valid until the next {@link #reset()}. */
  public Tensor allocate(DType dtype, long... shape) {
    long need = 1;
    for (long d : shape) {
      if (d <= 0) {
        throw new IllegalArgumentException("tensor dimensions must be > 0 (got " + Tensor.shapeString(shape) + ")");
      }
      need *= d;
    }
    need = align(need * dtype.bytes());
    while (current < blocks.size() && used + need > blocks.get(current).bytes()) {
      current++;
      used = 0;
    }
    if (current == blocks.size()) {
      blocks.add(backend.allocate(Math.max(need, minBlockBytes)));
      used = 0;
    }
    Tensor t = blocks.get(current).at(used, dtype, shape);
    used += need;
    inUse += need;
    highWater = Math.max(highWater, inUse);
    return t;
  }

  /** A point of this arena's allocations; see {@link #rewind}. */
  public record Mark(int block, long used, long inUse) {}

  /** The current point: {@link #rewind} to it releases everything allocated after it. */
  public Mark mark() {
    return new Mark(current, used, inUse);
  }

  /**
   * Makes the memory allocated since {@code mark} reusable: tensors allocated after it are invalid
   * afterwards, those allocated before stay valid. The mark must come from this arena since its
   * last reset, and no later mark may have been rewound past it.
   */
  public void rewind(Mark mark) {
    if (mark.inUse() > inUse || mark.block() >= Math.max(1, blocks.size())) {
      throw new IllegalArgumentException("mark " + mark + " is not a point of this arena's current allocations");
    }
    current = mark.block();
    used = mark.used();
    inUse = mark.inUse();
  }

  /** A zero-filled tensor. */
  public Tensor zeros(DType dtype, long... shape) {
    Tensor t = allocate(dtype, shape);
    backend.zero(t);
    return t;
  }

  /** Makes all memory reusable; tensors handed out before are invalid afterwards. */
  public void reset() {
    if (blocks.size() > 1) {
      for (DeviceBuffer b : blocks) {
        b.close();
      }
      blocks.clear();
      blocks.add(backend.allocate(align(highWater)));
    }
    current = 0;
    used = 0;
    inUse = 0;
  }

  /** Most bytes in use between two resets so far. */
  public long highWaterBytes() {
    return highWater;
  }

  @Override
  public void close() {
    for (DeviceBuffer b : blocks) {
      b.close();
    }
    blocks.clear();
  }

  private static long align(long bytes) {
    return (bytes + ALIGN - 1) / ALIGN * ALIGN;
  }
}
