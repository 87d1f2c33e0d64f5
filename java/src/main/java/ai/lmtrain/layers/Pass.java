package ai.lmtrain.layers;

import ai.lmtrain.tensor.Arena;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.ParameterStore;
import ai.lmtrain.tensor.Tensor;
import java.util.function.Supplier;

/**
 * What one forward (and backward) pass runs with: the backend, the parameters, the activation
 * arena, the compute type, and whether it is training (dropout on) with the pass's dropout stream.
 *
 * <p>Dropout randomness: every dropout site of a pass takes the next {@code numel} counters of
 * the stream (seed, offset), so masks never overlap within a step; the trainer starts each step
 * at a fresh offset, which makes runs reproducible and resumable.
 */
public final class Pass {
  private final ParameterStore params;
  private final Arena arena;
  private final boolean training;
  private final long seed;
  private long offset;

  /**
   * @param params the model's parameters (their backend and compute type are the pass's)
   * @param arena activation memory, reset by the caller between steps
   * @param training dropout on
   * @param seed dropout seed
   * @param offset first dropout counter of this pass
   */
  public Pass(ParameterStore params, Arena arena, boolean training, long seed, long offset) {
    this.params = params;
    this.arena = arena;
    this.training = training;
    this.seed = seed;
    this.offset = offset;
  }

  /** An inference pass: no dropout. */
  public static Pass inference(ParameterStore params, Arena arena) {
    return new Pass(params, arena, false, 0, 0);
  }

  public Backend backend() {
    return params.backend();
  }

  public ParameterStore params() {
    return params;
  }

  public boolean training() {
    return training;
  }

  /** The activation type. */
  public DType dtype() {
    return params.computeType();
  }

  /** Uninitialised activation memory of the compute type. */
  public Tensor activation(long... shape) {
    return arena.allocate(params.computeType(), shape);
  }

  /** Uninitialised memory of any type (statistics, ids). */
  public Tensor scratch(DType dtype, long... shape) {
    return arena.allocate(dtype, shape);
  }

  /**
   * Runs {@code step} (typically one layer's backward) and keeps only its result, copied into
   * {@code into} (allocated before, same shape and type): every activation the step allocated is
   * released afterwards, so the temporaries of a backward pass take the memory of one layer's, not
   * of all layers'.
   */
  public Tensor keepingOnly(Tensor into, Supplier<Tensor> step) {
    Arena.Mark mark = arena.mark();
    Tensor result = step.get();
    backend().copy(into, result);
    arena.rewind(mark);
    return into;
  }

  public long seed() {
    return seed;
  }

  /** Reserves {@code count} dropout counters and returns the first. */
  public long takeDropoutCounters(long count) {
    long first = offset;
    offset += count;
    return first;
  }
}
