package ai.lmtrain.train.dist;

import ai.lmtrain.layers.Pass;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.ModelInput;
import ai.lmtrain.tensor.Arena;
import ai.lmtrain.tensor.ParameterStore;
import ai.lmtrain.tensor.Tensor;
import ai.lmtrain.train.LossWeighting;
import java.util.Arrays;

/**
 * Data parallelism as the {@link ai.lmtrain.train.Trainer} sees it (the semantics of PyTorch DDP
 * and llm.c, with the loss normalised over the global batch):
 * <ul>
 *   <li>The data loader yields <em>global</em> batches (per-rank batch x world size), collated
 *       once with the loader's random stream on every rank, so the examples, padding and MLM
 *       masks are those of a single process with the global batch, whatever the world size. Rank
 *       r trains on its rows {@link #firstRow(int)} .. +{@link #rowCount(int)} (a balanced split;
 *       the ranks' rows are disjoint and cover the batch).</li>
 *   <li>The loss is the global batch's loss: each rank weighs its positions by the global
 *       normalisation (1 / scored positions of the global batch, or the {@link LossWeighting}
 *       evaluated on the global batch), so the sum over ranks of their gradients is the gradient
 *       of one process with the global batch. One all-reduce (sum) of the contiguous gradient
 *       buffer, and one of the step's loss, per optimizer step; grad norm, clipping and the fp16
 *       skip are then computed from identical values on every rank.</li>
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
 * for bit. A real communicator of one rank takes them all (that is how a 1-rank NCCL run is
 * compared with the plain run).
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

  /**
   * This rank's rows of a global batch and the loss weights that normalise them over the whole
   * batch. For the plain run, the batch and {@code weighting} unchanged.
   */
  public Share share(LanguageModel model, ModelInput global, LossWeighting weighting) {
    if (!distributed) {
      return new Share(global, weighting, 0, global.batch());
    }
    int first = firstRow(global.batch());
    int rows = rowCount(global.batch());
    if (rows == 0) {
      return new Share(null, weighting, first, global.batch());
    }
    int[] labels = model.lossLabels(global);
    float[] weights = weighting.rowWeights(global, labels);
    if (weights == null) {
      int scored = 0;
      for (int label : labels) {
        scored += label == ModelInput.IGNORE_INDEX ? 0 : 1;
      }
      if (scored == 0) {
        return new Share(rows(global, first, rows), LossWeighting.MEAN, first, global.batch()); // nothing scored anywhere
      }
      weights = new float[labels.length];
      float mean = 1f / scored;
      for (int i = 0; i < labels.length; i++) {
        weights[i] = labels[i] == ModelInput.IGNORE_INDEX ? 0f : mean;
      }
    }
    int t = global.seqLen();
    float[] mine = Arrays.copyOfRange(weights, first * t, (first + rows) * t);
    return new Share(rows(global, first, rows), (input, lossLabels) -> mine, first, global.batch());
  }

  /** This rank's rows of a global (evaluation) batch, or null when it has none. */
  public ModelInput localRows(ModelInput global) {
    if (!distributed) {
      return global;
    }
    int rows = rowCount(global.batch());
    return rows == 0 ? null : rows(global, firstRow(global.batch()), rows);
  }

  private static ModelInput rows(ModelInput in, int first, int count) {
    int t = in.seqLen();
    int from = first * t;
    int to = (first + count) * t;
    return new ModelInput(count, t, Arrays.copyOfRange(in.inputIds(), from, to), slice(in.attentionMask(), from, to),
        slice(in.tokenTypeIds(), from, to), slice(in.labels(), from, to));
  }

  private static int[] slice(int[] values, int from, int to) {
    return values == null ? null : Arrays.copyOfRange(values, from, to);
  }

  /**
   * What one rank trains on in one micro-batch.
   *
   * @param input this rank's rows, or null when it has none (it still joins the step's all-reduce)
   * @param weighting the loss weighting of those rows
   * @param firstRow where the rows start in the global batch
   * @param globalRows rows of the global batch
   */
  public record Share(ModelInput input, LossWeighting weighting, int firstRow, int globalRows) {

    /** Whether this rank has no rows of the batch. */
    public boolean isEmpty() {
      return input == null;
    }

    /** The training pass of these rows, drawing their part of the global batch's dropout stream. */
    public Pass trainingPass(ParameterStore params, Arena arena, long seed, long offset) {
      return new Pass(params, arena, true, seed, offset, firstRow, input.batch(), globalRows);
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
    if (distributed) {
      int failed = firstFailedRank(false);
      if (failed >= 0) {
        throw new PeerFailedException(failed);
      }
      comm.broadcast(params.masterAll(), 0);
      params.syncWorkFromMaster();
    }
    started = true;
  }

  /** Whether {@link #start} has passed: from then on, a failing rank must abort the job. */
  public boolean started() {
    return started;
  }

  /**
   * The failure path of the set-up: a rank whose set-up threw calls this instead of {@link #start}
   * (the same collective), so that every rank learns which ranks failed.
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
