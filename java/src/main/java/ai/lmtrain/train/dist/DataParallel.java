package ai.lmtrain.train.dist;

import ai.lmtrain.layers.Pass;
import ai.lmtrain.tensor.Arena;
import ai.lmtrain.tensor.ParameterStore;
import ai.lmtrain.tensor.Tensor;

/**
 * Data parallelism as the {@link ai.lmtrain.train.Trainer} sees it (the semantics of PyTorch DDP
 * and llm.c, with the loss normalised over the global batch):
 * <ul>
 *   <li>The data loader yields <em>global</em> batches (per-rank batch x world size), collated
 *       once with the loader's random stream on every rank, so the examples, padding and MLM
 *       masks are those of a single process with the global batch, whatever the world size. Rank
 *       r trains on its {@link #rows} (a balanced split; the ranks' rows are disjoint and cover
 *       the batch).</li>
 *   <li>The loss is the global batch's: the objective weighs a rank's rows by the whole batch's
 *       normalisation ({@link ai.lmtrain.train.TrainingObjective#runRows}), so the sum over ranks
 *       of their gradients is the gradient of one process with the global batch. One all-reduce
 *       (sum) of the contiguous gradient buffer, and one of the step's loss, per optimizer step;
 *       grad norm, clipping and the fp16 skip are then computed from identical values on every
 *       rank.</li>
 *   <li>Dropout: rank r's pass takes the counters of its rows within the global batch's stream,
 *       so the masks too are those of the single-process run.</li>
 *   <li>Evaluation: each rank evaluates its rows of every evaluation batch; the sums (loss,
 *       scored positions, correct predictions) are reduced.</li>
 * </ul>
 * Only the floating-point summation order differs from one process (the per-rank partial sums of
 * the parameter gradients are added by the all-reduce).
 *
 * <p>The plain run ({@link #SINGLE}, over {@link Communicator#single()}) takes none of these
 * paths: its batches, losses and gradients are those of a trainer without data parallelism, bit
 * for bit. A real communicator of one rank trains whole batches too but reduces (that is how a
 * 1-rank NCCL run is compared with the plain run).
 */
public final class DataParallel {
  /** One process: the plain run. */
  public static final DataParallel SINGLE = new DataParallel(Communicator.single());

  private final Communicator comm;
  private final boolean distributed;
  private volatile boolean started;

  public DataParallel(Communicator comm) {
    this.comm = comm;
    this.distributed = comm != Communicator.single();
  }

  /** Whether this is a real job (even of one rank), not the plain run. */
  public boolean distributed() {
    return distributed;
  }

  public Communicator communicator() {
    return comm;
  }

  public int rank() {
    return comm.rank();
  }

  public int worldSize() {
    return comm.worldSize();
  }

  /** Rank 0 writes logs, metrics, plots and checkpoints. */
  public boolean isRoot() {
    return comm.isRoot();
  }

  /** First row of this rank in a global batch of {@code globalRows} rows. */
  public int firstRow(int globalRows) {
    return firstRow(rank(), globalRows);
  }

  /** This rank's rows of a global batch of {@code globalRows} rows (0 when a short batch has fewer rows than ranks). */
  public int rowCount(int globalRows) {
    return firstRow(rank() + 1, globalRows) - firstRow(rank(), globalRows);
  }

  private int firstRow(int r, int globalRows) {
    return (int) ((long) r * globalRows / worldSize());
  }

  /** This rank's rows of a global batch of {@code globalRows} rows (all of them in the plain run). */
  public Rows rows(int globalRows) {
    return distributed ? new Rows(firstRow(globalRows), rowCount(globalRows), globalRows)
        : new Rows(0, globalRows, globalRows);
  }

  /**
   * One rank's share of a global batch.
   *
   * @param first where the rows start
   * @param count how many (0 when a short batch has fewer rows than ranks: the rank still joins the
   *     step's all-reduce)
   * @param globalRows rows of the global batch
   */
  public record Rows(int first, int count, int globalRows) {

    /** Whether this rank has no rows of the batch. */
    public boolean isEmpty() {
      return count == 0;
    }

    /** Whether these are all the batch's rows (the plain run: the objective's own {@code run}). */
    public boolean whole() {
      return first == 0 && count == globalRows;
    }

    /** The training pass of these rows, drawing their part of the global batch's dropout stream. */
    public Pass trainingPass(ParameterStore params, Arena arena, long seed, long offset) {
      return new Pass(params, arena, true, seed, offset, first, count, globalRows);
    }
  }

  /**
   * The step's one synchronisation point: sums the gradient buffer (F32) and the step's loss (a
   * device scalar) over the ranks. Nothing happens in the plain run.
   */
  public void reduceGradients(Tensor grads, Tensor loss) {
    if (distributed) {
      comm.allReduce(grads, ReduceOp.SUM);
      comm.allReduce(loss, ReduceOp.SUM);
    }
  }

  /** Sums host values (evaluation totals) over the ranks, in place. */
  public void sum(double[] values) {
    if (distributed) {
      comm.allReduce(values, ReduceOp.SUM);
    }
  }

  /**
   * The first collective of a run, called by every rank once its set-up succeeded: confirms that
   * every rank did (else throws {@link PeerFailedException}), then copies rank 0's master weights
   * to every rank (the same model on every rank, as DDP does).
   */
  public void start(ParameterStore params) {
    agree();
    if (distributed) {
      comm.broadcast(params.masterAll(), 0);
      params.syncWorkFromMaster();
    }
    started = true;
  }

  /**
   * A point of the set-up that every rank passes together: returns once every rank has reached it
   * without failing, throws {@link PeerFailedException} when a rank reports a failure instead (see
   * {@link #reportSetupFailure}). Orders the set-up too (rank 0 prepares the run folder before the
   * others read it). Nothing happens in the plain run.
   */
  public void agree() {
    if (distributed) {
      int failed = firstFailedRank(false);
      if (failed >= 0) {
        throw new PeerFailedException(failed);
      }
    }
  }

  /** Whether {@link #start} has passed: from then on, a failing rank must abort the job. */
  public boolean started() {
    return started;
  }

  /**
   * The failure path of the set-up: a rank whose set-up threw calls this instead of the next
   * {@link #agree} (the same collective), so that every rank learns which ranks failed.
   *
   * @return the lowest rank that failed (this one, if no lower rank did)
   */
  public int reportSetupFailure() {
    return firstFailedRank(true);
  }

  /** The lowest rank that passed {@code failed = true}, or -1: one all-reduce (min). */
  int firstFailedRank(boolean failed) {
    long[] flag = {failed ? rank() : Long.MAX_VALUE};
    comm.allReduce(flag, ReduceOp.MIN);
    return flag[0] == Long.MAX_VALUE ? -1 : (int) flag[0];
  }
}
