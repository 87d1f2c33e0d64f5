package ai.lmtrain.selftest;

import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One comparison case: an op, the tensors it reads and writes, and a body that runs the op on a
 * given backend with that backend's copies of the tensors. {@link BackendComparison} runs the body
 * once on the reference and once on the backend under test and compares the outputs.
 *
 * @param op the {@link Backend} method exercised ("matmul", "attentionBackward", ...)
 * @param dtype the activation type of the case (the row's dtype column)
 * @param name what distinguishes this case from the op's others (shape, layout, flags)
 * @param kind how much rounding the op accumulates, which sets the tolerance of each output
 * @param tensors inputs and outputs; names are unique
 * @param body runs the op
 */
public record OpCase(String op, DType dtype, String name, Tolerance.Kind kind, List<TensorSpec> tensors, Body body) {

  /** Runs the op on {@code backend} with tensors created from the case's specs on that backend. */
  @FunctionalInterface
  public interface Body {
    void run(Backend backend, CaseTensors tensors);
  }

  public OpCase {
    tensors = List.copyOf(tensors);
    Set<String> names = new HashSet<>();
    for (TensorSpec t : tensors) {
      if (!names.add(t.name())) {
        throw new IllegalArgumentException(op + " " + name + ": tensor name '" + t.name() + "' used twice");
      }
    }
    if (tensors.stream().noneMatch(TensorSpec::output)) {
      throw new IllegalArgumentException(op + " " + name + ": a case needs at least one output");
    }
  }

  /** Starts a case of {@code op} in {@code dtype}. */
  public static Builder of(String op, DType dtype, String name, Tolerance.Kind kind) {
    return new Builder(op, dtype, name, kind);
  }

  /** "op dtype name", e.g. "matmul BF16 M=33 N=31 K=127 NT". */
  public String id() {
    return op + " " + dtype + " " + name;
  }

  @Override
  public String toString() {
    return id();
  }

  /** Collects the tensors of a case; {@link #run} finishes it. */
  public static final class Builder {
    private final String op;
    private final DType dtype;
    private final String name;
    private final Tolerance.Kind kind;
    private final List<TensorSpec> tensors = new ArrayList<>();

    private Builder(String op, DType dtype, String name, Tolerance.Kind kind) {
      this.op = op;
      this.dtype = dtype;
      this.name = name;
      this.kind = kind;
    }

    /** A read-only input. */
    public Builder in(String tensor, DType type, Fill fill, long... shape) {
      tensors.add(new TensorSpec(tensor, type, shape, fill, false));
      return this;
    }

    /** An output the op writes (overwrite: fill with NaN; accumulate or in place: fill with values). */
    public Builder out(String tensor, DType type, Fill fill, long... shape) {
      tensors.add(new TensorSpec(tensor, type, shape, fill, true));
      return this;
    }

    /** The case, running {@code body}. */
    public OpCase run(Body body) {
      return new OpCase(op, dtype, name, kind, tensors, body);
    }
  }
}
