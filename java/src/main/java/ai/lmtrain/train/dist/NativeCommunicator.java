package ai.lmtrain.train.dist;

import ai.lmtrain.nativebridge.LmtNative;
import ai.lmtrain.nativebridge.NativeCalls;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.Device;
import ai.lmtrain.tensor.Tensor;
import java.nio.file.Path;

/**
 * A communicator of the native core ({@code lmt_comm_*}): MPI over host memory, or NCCL over one
 * GPU's memory, optionally with the MPI communicator that started it (its {@code control}, which
 * then also aborts and finalizes the job). Calls are serialised (MPI_THREAD_SERIALIZED).
 */
final class NativeCommunicator implements Communicator {
  /** The native status of a failed or timed-out collective (LMT_ERR_COMM). */
  private static final int COMM_FAILURE = 6;
  /** Native dtype code of doubles (LMT_F64, collectives only). */
  private static final int F64 = 6;
  /** How long an abort may take before this process halts itself. */
  private static final long ABORT_GRACE_MILLIS = 30_000;

  private final String engine;
  private final Device device;
  private final NativeCommunicator control;
  private final int rank;
  private final int size;
  private final int localRank;
  private final int localSize;
  private long handle;

  private NativeCommunicator(String engine, long handle, Device device, NativeCommunicator control) {
    this.engine = engine;
    this.handle = handle;
    this.device = device;
    this.control = control;
    int[] r = new int[1];
    int[] s = new int[1];
    int[] lr = new int[1];
    int[] ls = new int[1];
    NativeCalls.check(LmtNative.lmt_comm_info(handle, r, s, lr, ls));
    this.rank = r[0];
    this.size = s[0];
    this.localRank = lr[0];
    this.localSize = ls[0];
  }

  /** Joins the MPI job of this process (started by mpirun or srun) through the shim at {@code shim}. */
  static NativeCommunicator mpi(Path shim, double timeoutSeconds) {
    long[] out = new long[1];
    NativeCalls.check(LmtNative.lmt_comm_init_mpi(out, shim.toString(), timeoutSeconds));
    return new NativeCommunicator("MPI", out[0], Device.CPU, null);
  }

  /** A new NCCL unique id (rank 0 makes it; every rank needs it to join). */
  static byte[] ncclUniqueId(String library) {
    byte[] id = new byte[128];
    NativeCalls.check(LmtNative.lmt_nccl_unique_id(id, library));
    return id;
  }

  /** Joins the NCCL clique {@code id} on the GPU of the native context {@code ctx}. */
  static NativeCommunicator nccl(long ctx, Device device, byte[] id, int rank, int size, String library,
      double timeoutSeconds, NativeCommunicator control) {
    long[] out = new long[1];
    NativeCalls.check(LmtNative.lmt_comm_init_nccl(out, ctx, id, rank, size, library, timeoutSeconds));
    return new NativeCommunicator("NCCL", out[0], device, control);
  }

  @Override
  public int rank() {
    return rank;
  }

  @Override
  public int worldSize() {
    return size;
  }

  /** This rank's index on its node, or -1 if the engine does not know it. */
  int localRank() {
    return localRank;
  }

  /** Ranks on this node, or -1 if the engine does not know. */
  int localSize() {
    return localSize;
  }

  @Override
  public synchronized void allReduce(Tensor buffer, ReduceOp op) {
    requireOnDevice("allReduce", buffer);
    DType dt = buffer.dtype();
    if (dt != DType.F32 && dt != DType.I32 && dt != DType.I64) {
      throw new IllegalArgumentException("allReduce: " + buffer + " must be F32, I32 or I64");
    }
    check(LmtNative.lmt_comm_all_reduce(live(), buffer.address(), buffer.numel(), dt.code(), op.code()),
        "all-reduce of " + buffer.numel() + " " + dt + " values");
  }

  @Override
  public synchronized void allReduce(double[] values, ReduceOp op) {
    check(LmtNative.lmt_comm_all_reduce_host(live(), values, values.length, F64, op.code()),
        "all-reduce of " + values.length + " host values");
  }

  @Override
  public synchronized void allReduce(long[] values, ReduceOp op) {
    check(LmtNative.lmt_comm_all_reduce_host(live(), values, values.length, DType.I64.code(), op.code()),
        "all-reduce of " + values.length + " host values");
  }

  @Override
  public synchronized void broadcast(Tensor buffer, int root) {
    requireOnDevice("broadcast", buffer);
    check(LmtNative.lmt_comm_broadcast(live(), buffer.address(), buffer.bytes(), root),
        "broadcast of " + buffer.bytes() + " bytes from rank " + root);
  }

  @Override
  public synchronized void barrier() {
    check(LmtNative.lmt_comm_barrier(live()), "barrier");
  }

  /**
   * Ends the job: flushes the standard streams, arms a timer that halts this JVM if the abort has
   * not ended it within 30 s, then aborts NCCL (if any) and MPI (MPI_Abort: the launcher ends
   * every rank). Without MPI (NCCL started over TCP) this process halts with {@code exitCode} and
   * its launcher ends the others.
   */
  @Override
  public void abort(int exitCode) {
    System.out.flush();
    System.err.flush();
    Thread halt = new Thread(() -> {
      try {
        Thread.sleep(ABORT_GRACE_MILLIS);
      } catch (InterruptedException e) {
        return;
      }
      Runtime.getRuntime().halt(exitCode);
    }, "lmtrain-abort-timer");
    halt.setDaemon(true);
    halt.start();
    if (handle != 0) {
      LmtNative.lmt_comm_abort(handle, exitCode);
    }
    if (control != null) {
      control.abort(exitCode);
    }
    Runtime.getRuntime().halt(exitCode);
  }

  @Override
  public synchronized void close() {
    if (handle != 0) {
      long h = handle;
      handle = 0;
      try {
        NativeCalls.check(LmtNative.lmt_comm_destroy(h));
      } finally {
        if (control != null) {
          control.close();
        }
      }
    }
  }

  @Override
  public String toString() {
    return engine + " rank " + rank + " of " + size;
  }

  private long live() {
    if (handle == 0) {
      throw new IllegalStateException(this + " is closed");
    }
    return handle;
  }

  private void requireOnDevice(String op, Tensor t) {
    if (!t.device().equals(device)) {
      throw new IllegalArgumentException(op + ": " + t + " is on " + t.device() + " but the " + engine
          + " communicator works on " + device);
    }
  }

  /** Native failures of a collective become a {@link CollectiveException} naming the rank and the hint. */
  private void check(int status, String what) {
    if (status == COMM_FAILURE) {
      throw new CollectiveException("rank " + rank + " of " + size + ": the " + what + " failed: "
          + LmtNative.lmt_last_error() + " (another rank died, hung or failed; " + DistributedRuntime.TIMEOUT_ENV
          + " sets how long a collective waits)", null);
    }
    NativeCalls.check(status);
  }
}
