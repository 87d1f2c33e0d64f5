package ai.lmtrain.tensor;

import java.util.Arrays;
import java.util.Objects;

/**
 * A view of dense, row-major memory on a device: address, shape and type. A tensor does not own
 * its memory; a {@link DeviceBuffer} or an {@link Arena} does, and outlives the views it hands out.
 */
public final class Tensor {
  private final long address;
  private final long[] shape;
  private final DType dtype;
  private final Device device;

  Tensor(long address, long[] shape, DType dtype, Device device) {
    this.address = address;
    this.shape = shape.clone();
    this.dtype = Objects.requireNonNull(dtype, "dtype");
    this.device = Objects.requireNonNull(device, "device");
    for (long d : shape) {
      if (d <= 0) {
        throw new IllegalArgumentException("tensor dimensions must be > 0 (got " + shapeString(shape) + ")");
      }
    }
  }

  /** Native address of the first element. */
  public long address() {
    return address;
  }

  public DType dtype() {
    return dtype;
  }

  public Device device() {
    return device;
  }

  /** A copy of the shape. */
  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  /** Size of dimension {@code i}; negative indexes count from the end. */
  public long dim(int i) {
    return shape[i < 0 ? shape.length + i : i];
  }

  /** Number of elements. */
  public long numel() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  /** Size in bytes. */
  public long bytes() {
    return numel() * dtype.bytes();
  }

  /** Product of all dimensions but the last: the row count of this tensor seen as a matrix. */
  public long rows() {
    return numel() / dim(-1);
  }

  /** The same memory with another shape of equal element count. */
  public Tensor view(long... newShape) {
    Tensor v = new Tensor(address, newShape, dtype, device);
    if (v.numel() != numel()) {
      throw new IllegalArgumentException(
          "cannot view " + shapeString(shape) + " as " + shapeString(newShape) + ": element counts differ");
    }
    return v;
  }

  /** A contiguous sub-tensor starting {@code elementOffset} elements in, with shape {@code newShape}. */
  public Tensor slice(long elementOffset, long... newShape) {
    Tensor v = new Tensor(address + elementOffset * dtype.bytes(), newShape, dtype, device);
    if (elementOffset < 0 || elementOffset + v.numel() > numel()) {
      throw new IllegalArgumentException("slice of " + shapeString(newShape) + " at element " + elementOffset
          + " lies outside a tensor of " + shapeString(shape));
    }
    return v;
  }

  /** Row {@code i} of this tensor seen as a (rows, last dimension) matrix, as a 1-D view. */
  public Tensor row(long i) {
    return slice(i * dim(-1), dim(-1));
  }

  /** "(2, 3, 4)". */
  public static String shapeString(long... shape) {
    return Arrays.toString(shape).replace('[', '(').replace(']', ')');
  }

  @Override
  public String toString() {
    return "Tensor" + shapeString(shape) + " " + dtype + " on " + device;
  }
}
