package ai.lmtrain.selftest;

import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.Tensor;

/**
 * One tensor of a case: its name, type, shape, initial contents and role. Outputs are compared
 * between the backends after the op; inputs must come back unchanged. An output that the op
 * accumulates into (+=) starts from random values; one it overwrites starts as NaN, so an element
 * the op forgets to write shows up as a mismatch. An in-place output (dlogits = logits) is simply an
 * output that the op also reads.
 *
 * @param name the name the case body uses to look the tensor up
 * @param dtype storage type
 * @param shape dimensions
 * @param fill initial contents
 * @param output true for a tensor the op writes (compared), false for a read-only input (checked unchanged)
 */
public record TensorSpec(String name, DType dtype, long[] shape, Fill fill, boolean output) {

  public TensorSpec {
    shape = shape.clone();
    long numel = 1;
    for (long d : shape) {
      numel *= d;
    }
    if (numel * dtype.bytes() > Integer.MAX_VALUE - 1024) {
      throw new IllegalArgumentException(name + " " + Tensor.shapeString(shape) + " is too large for a self-test case");
    }
  }

  /** Element count. */
  public int numel() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return (int) n;
  }

  /** Size in bytes. */
  public int bytes() {
    return numel() * dtype.bytes();
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  @Override
  public String toString() {
    return name + Tensor.shapeString(shape) + " " + dtype;
  }
}
