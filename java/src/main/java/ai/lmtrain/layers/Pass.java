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
 * at a fresh offset, which makes runs reproducible and resumable. A data-parallel pass over rows
 * [firstRow, firstRow + rows) of a global batch takes exactly those rows' counters of the global
 * batch's site (every site is batch-major), so its masks are the single-process run's.
 */
public final class Pass {
  private final ParameterStore params;
  private final Arena arena;
  private final boolean training;
  private final long seed;
  private final int firstRow;
  private final int rows;
  private final int globalRows;
  private long offset;

  /**
   * @param params the model's parameters (their backend and compute type are the pass's)
   * @param arena activation memory, reset by the caller between steps
   * @param training dropout on
   * @param seed dropout seed
   * @param offset first dropout counter of this pass
   */
  public Pass(ParameterStore params, Arena arena, boolean training, long seed, long offset) {
    this(params, arena, training, seed, offset, 0, 1, 1);
  }

  /**
   * A pass over {@code rows} rows of a global batch of {@code globalRows} rows, starting at row
   * {@code firstRow} (one rank's share of a data-parallel batch).
   */
  public Pass(ParameterStore params, Arena arena, boolean training, long seed, long offset, int firstRow, int rows,
      int globalRows) {
    if (rows <= 0 || firstRow < 0 || firstRow + rows > globalRows) {
      throw new IllegalArgumentException("rows [" + firstRow + ", " + (firstRow + rows) + ") must lie in a global batch"
          + " of " + globalRows + " rows");
    }
    this.params = params;
    this.arena = arena;
    this.training = training;
    this.seed = seed;
    this.offset = offset;
    this.firstRow = firstRow;
    this.rows = rows;
    this.globalRows = globalRows;
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

  /**
   * Reserves the dropout counters of a site of {@code count} elements of this pass's rows
   * (batch-major) and returns the first.
   */
  public long takeDropoutCounters(long count) {
    if (rows == globalRows) {
      long first = offset;
      offset += count;
      return first;
    }
    if (count % rows != 0) {
      throw new IllegalArgumentException("a dropout site of " + count + " elements is not batch-major over " + rows
          + " rows");
    }
    long perRow = count / rows;
    long first = offset + firstRow * perRow;
    offset += perRow * globalRows;
    return first;
  }
}
