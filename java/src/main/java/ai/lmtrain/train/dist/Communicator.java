package ai.lmtrain.train.dist;

import ai.lmtrain.tensor.Tensor;

/**
 * The processes (ranks) of a data-parallel job and their collectives. Every rank calls the same
 * collectives in the same order with the same sizes; each call returns once every rank has
 * contributed, or fails with a {@link CollectiveException} after the job's timeout (a rank died,
 * hung or stopped early), after which the only sound call is {@link #abort}.
 *
 * <p>Implementations: {@link #single()} (a world of one process: every collective is the
 * identity), MPI for CPU training and NCCL for CUDA training ({@link DistributedRuntime} opens
 * the right one for the launcher and device).
 */
public interface Communicator extends AutoCloseable {

  /** This process's rank, 0 .. worldSize - 1. */
  int rank();

  /** Number of ranks in the job. */
  int worldSize();

  /** Whether this is rank 0, the rank that writes logs, metrics and checkpoints. */
  default boolean isRoot() {
    return rank() == 0;
  }

  /**
   * Replaces {@code buffer} (F32, I32 or I64, on the communicator's device: host memory for MPI,
   * the GPU for NCCL) by the element-wise reduction over all ranks; every rank gets the same bits.
   */
  void allReduce(Tensor buffer, ReduceOp op);

  /** The same for a few values in host memory. */
  void allReduce(double[] values, ReduceOp op);

  /** The same for a few values in host memory. */
  void allReduce(long[] values, ReduceOp op);

  /** Copies {@code buffer} (any type, on the communicator's device) of rank {@code root} to every rank. */
  void broadcast(Tensor buffer, int root);

  /** Returns once every rank has called it. */
  void barrier();

  /**
   * Ends every rank of the job with {@code exitCode} (MPI_Abort, or NCCL's abort where the
   * launcher ends the others); does not return normally for a world of more than one.
   */
  void abort(int exitCode);

  /** Leaves the job in order (every rank closes at a normal end). */
  @Override
  void close();

  /** A world of one process: the plain, undistributed run. */
  static Communicator single() {
    return SingleProcess.INSTANCE;
  }
}
