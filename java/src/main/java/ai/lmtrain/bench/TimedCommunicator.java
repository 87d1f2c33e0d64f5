package ai.lmtrain.bench;

import ai.lmtrain.tensor.Tensor;
import ai.lmtrain.train.dist.Communicator;
import ai.lmtrain.train.dist.ReduceOp;

/** A communicator that counts the wall time its device-buffer all-reduces take (waiting for the other ranks included). */
final class TimedCommunicator implements Communicator {
  private final Communicator inner;
  private long allReduceNanos;

  TimedCommunicator(Communicator inner) {
    this.inner = inner;
  }

  /** Nanoseconds spent in {@link #allReduce(Tensor, ReduceOp)} so far. */
  long allReduceNanos() {
    return allReduceNanos;
  }

  @Override
  public int rank() {
    return inner.rank();
  }

  @Override
  public int worldSize() {
    return inner.worldSize();
  }

  @Override
  public void allReduce(Tensor buffer, ReduceOp op) {
    long start = System.nanoTime();
    inner.allReduce(buffer, op);
    allReduceNanos += System.nanoTime() - start;
  }

  @Override
  public void allReduce(double[] values, ReduceOp op) {
    inner.allReduce(values, op);
  }

  @Override
  public void allReduce(long[] values, ReduceOp op) {
    inner.allReduce(values, op);
  }

  @Override
  public void broadcast(Tensor buffer, int root) {
    inner.broadcast(buffer, root);
  }

  @Override
  public void barrier() {
    inner.barrier();
  }

  @Override
  public void abort(int exitCode) {
    inner.abort(exitCode);
  }

  @Override
  public void close() {
    inner.close();
  }
}
