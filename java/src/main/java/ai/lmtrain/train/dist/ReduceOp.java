package ai.lmtrain.train.dist;

/** Element-wise reductions of {@link Communicator#allReduce}; codes equal the native {@code lmt_reduce_op}. */
public enum ReduceOp {
  SUM(0),
  MIN(1),
  MAX(2);

  private final int code;

  ReduceOp(int code) {
    this.code = code;
  }

  /** The native {@code lmt_reduce_op} code. */
  public int code() {
    return code;
  }
}
