package ai.lmtrain.train;

import ai.lmtrain.data.Batch;
import ai.lmtrain.data.DataLoader;
import ai.lmtrain.data.LoaderState;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.Model;
import ai.lmtrain.tensor.Arena;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.DeviceBuffer;
import ai.lmtrain.tensor.Tensor;
import ai.lmtrain.train.dist.DataParallel;

/**
 * The training loop: gradient accumulation, loss scaling (fp16), global-norm clipping, AdamW with
 * a learning-rate schedule, periodic logging, evaluation (the best model by metric_for_best_model)
 * and checkpoint points — the behaviour of Hugging Face's Trainer, for any
 * {@link TrainingObjective} (language-model pre-training, sequence classification).
 *
 * <p>Reproducibility: the data loader's order and masks follow from the seed and its saved state,
 * dropout counters from the number of batches consumed, and every CPU kernel is deterministic, so a run with the same seed repeats
 * bit for bit on the CPU, and {@link #restore} continues exactly where a checkpoint left off.
 */
public final class Trainer implements AutoCloseable {
  /** Dropout counters reserved per micro-batch (2^40: far above any batch's element count). */
  private static final int DROPOUT_STREAM_SHIFT = 40;

  private final TrainingObjective objective;
  private final TrainingArguments args;
  private final DataLoader train;
  private final DataLoader eval;
  private final LoaderState evalStart;
  private final TrainingListener listener;
  private final AdamW optimizer;
  private final LossScaler scaler;
  private final Arena arena;
  private final DeviceBuffer scalars;
  private final long totalSteps;
  private final LrSchedule schedule;
  private final DataParallel parallel;
  private TrainState state;

  /** Trains a language model: {@link LanguageModelObjective} with {@code weighting}. */
  public Trainer(LanguageModel model, TrainingArguments args, DataLoader train, DataLoader eval,
      LossWeighting weighting, TrainingListener listener) {
    this(new LanguageModelObjective(model, weighting), args, train, eval, listener);
  }

  /**
   * A single-process trainer.
   *
   * @param eval evaluation batches, or null for no evaluation
   */
  public Trainer(TrainingObjective objective, TrainingArguments args, DataLoader train, DataLoader eval,
      TrainingListener listener) {
    this(objective, args, train, eval, listener, DataParallel.SINGLE);
  }

  /**
   * A data-parallel trainer: {@code train} and {@code eval} yield global batches (per-rank batch x
   * world size), of which this rank trains and evaluates its rows (see {@link DataParallel}).
   *
   * @param eval evaluation batches, or null for no evaluation
   */
  public Trainer(TrainingObjective objective, TrainingArguments args, DataLoader train, DataLoader eval,
      TrainingListener listener, DataParallel parallel) {
    Model model = objective.model();
    if (train.batchesPerEpoch() == 0) {
      throw new IllegalArgumentException("the training set yields no batch (corpus too small for the batch size"
          + " and context length?)");
    }
    if (model.parameters().computeType() != args.precision().computeType()) {
      throw new IllegalArgumentException("model compute type " + model.parameters().computeType()
          + " does not match precision " + args.precision());
    }
    if (!objective.metricNames().contains(EvalResult.metricKey(args.metricForBestModel()))) {
      throw new IllegalArgumentException("metric_for_best_model '" + args.metricForBestModel() + "' is not measured"
          + " here (expected one of " + new java.util.TreeSet<>(objective.metricNames()) + ")");
    }
    this.objective = objective;
    this.args = args;
    this.train = train;
    this.eval = eval;
    this.evalStart = eval == null ? null : eval.state();
    this.listener = listener;
    this.optimizer = new AdamW(model.parameters(), (float) args.adamBeta1(), (float) args.adamBeta2(),
        (float) args.adamEpsilon(), (float) args.weightDecay(), e -> e.decay());
    this.scaler = LossScaler.forPrecision(args.precision());
    Backend backend = model.parameters().backend();
    this.arena = new Arena(backend, 64L << 20);
    this.scalars = backend.allocate(256);
    int stepsPerEpoch = stepsPerEpoch();
    this.totalSteps = args.maxSteps() > 0 ? args.maxSteps() : (long) stepsPerEpoch * args.numTrainEpochs();
    this.schedule = LrSchedule.of(args.lrSchedulerType(), args.learningRate(), args.warmupFor((int) totalSteps),
        totalSteps);
    this.parallel = parallel;
    this.state = new TrainState(0, train.state(), 0, 0, scaler.scale(), 0, Double.NaN, -1);
  }

  /** Optimizer steps per epoch: one per gradient_accumulation_steps batches, the last one possibly short. */
  public int stepsPerEpoch() {
    return (train.batchesPerEpoch() + args.gradientAccumulationSteps() - 1) / args.gradientAccumulationSteps();
  }

  public long totalSteps() {
    return totalSteps;
  }

  public TrainState state() {
    return state;
  }

  public Model model() {
    return objective.model();
  }

  public AdamW optimizer() {
    return optimizer;
  }

  public TrainingArguments arguments() {
    return args;
  }

  /** The ranks this trainer runs with ({@link DataParallel#SINGLE} for one process). */
  public DataParallel dataParallel() {
    return parallel;
  }

  /** Continues from a checkpoint's state (weights and moments must have been loaded already). */
  public void restore(TrainState saved) {
    train.restore(saved.loader());
    this.state = saved;
    optimizer.restoreSteps(saved.globalStep());
    scaler.restore(saved.lossScale(), saved.cleanSteps());
  }

  /** Trains until the planned number of steps is reached. */
  public void train() {
    long tokensAtLog = state.tokensSeen();
    long nanosAtLog = System.nanoTime();
    double lossSinceLog = 0;
    int stepsSinceLog = 0;
    int skippedSinceLog = 0;
    while (state.globalStep() < totalSteps) {
      StepOutcome out = step();
      if (!Double.isNaN(out.loss)) {
        lossSinceLog += out.loss;
        stepsSinceLog++;
      }
      skippedSinceLog += out.skipped ? 1 : 0;
      listener.onStep(state, totalSteps);
      long step = state.globalStep();
      boolean endOfEpoch = state.loader().position() == 0;
      boolean last = step >= totalSteps;
      if (step % args.loggingSteps() == 0 || last) {
        long now = System.nanoTime();
        double seconds = Math.max(1e-9, (now - nanosAtLog) / 1e9);
        listener.onLog(new TrainingListener.TrainLog(step, fractionalEpoch(), stepsSinceLog == 0 ? Double.NaN
            : lossSinceLog / stepsSinceLog, out.lr, out.gradNorm, state.tokensSeen(),
            (state.tokensSeen() - tokensAtLog) / seconds, skippedSinceLog, scaler.scale()));
        tokensAtLog = state.tokensSeen();
        nanosAtLog = now;
        lossSinceLog = 0;
        stepsSinceLog = 0;
        skippedSinceLog = 0;
      }
      boolean evalDue = eval != null && (("steps".equals(args.evalStrategy()) && step % args.evalSteps() == 0)
          || ("epoch".equals(args.evalStrategy()) && endOfEpoch) || last);
      if (evalDue) {
        EvalResult r = evaluate();
        double value = r.metric(args.metricForBestModel());
        boolean improved = Double.isNaN(state.bestMetric())
            || (args.isGreaterBetter() ? value > state.bestMetric() : value < state.bestMetric());
        if (improved) {
          state = state.withBest(value, step);
        }
        listener.onEvaluate(r, step, improved);
      }
      boolean saveDue = last || ("steps".equals(args.saveStrategy()) && step % args.saveSteps() == 0)
          || ("epoch".equals(args.saveStrategy()) && endOfEpoch);
      if (saveDue) {
        listener.onSave(this, last);
      }
    }
  }

  private record StepOutcome(double loss, double lr, double gradNorm, boolean skipped) {}

  /** One optimizer step over gradient_accumulation_steps batches (fewer at the end of an epoch). */
  private StepOutcome step() {
    var params = objective.model().parameters();
    Backend backend = params.backend();
    params.zeroGrads();
    int batches = Math.min(args.gradientAccumulationSteps(), train.batchesPerEpoch() - state.loader().position());
    float lossScale = scaler.scale();
    // The step's mean loss accumulates on the device next to the gradients' sum of squares, and
    // both come back in one read at the end: the step's only read of device values (the uploads of
    // each batch, from Java arrays, still wait for the work queued before them).
    Tensor sumSqAndLoss = scalars.at(0, DType.F32, 2);
    Tensor lossTotalOnDevice = scalars.at(Float.BYTES, DType.F32, 1);
    backend.zero(lossTotalOnDevice);
    long tokens = 0;
    for (int i = 0; i < batches; i++) {
      Batch batch = train.next();
      DataParallel.Rows rows = parallel.rows(batch.batchSize());
      arena.reset();
      if (!rows.isEmpty()) {
        Pass pass = rows.trainingPass(params, arena, args.seed(), (state.microBatches() + i) << DROPOUT_STREAM_SHIFT);
        BatchLoss r = rows.whole() ? objective.run(pass, batch, true, lossScale / batches)
            : objective.runRows(pass, batch, rows.first(), rows.count(), true, lossScale / batches);
        if (r.scored() > 0) {
          backend.scale(r.lossSum(), r.meanScale() / batches);
          backend.add(lossTotalOnDevice, lossTotalOnDevice, r.lossSum());
        }
      }
      tokens += countTokens(batch);
    }
    parallel.reduceGradients(params.gradAll(), lossTotalOnDevice);
    double lr = schedule.lr(state.globalStep());
    backend.sumSquares(scalars.at(0, DType.F32, 1), params.gradAll());
    float[] sumSqLoss = backend.downloadFloats(sumSqAndLoss);
    double norm = Math.sqrt(sumSqLoss[0]) / lossScale;
    double lossTotal = sumSqLoss[1];
    boolean nonFinite = !Double.isFinite(lossTotal);
    boolean overflow = nonFinite || !Double.isFinite(norm);
    boolean skip = scaler.update(overflow);
    if (overflow && !skip) {
      throw new IllegalStateException("the training loss or gradient became " + (nonFinite ? "non-finite (loss "
          + lossTotal + ")" : "non-finite (grad norm " + norm + ")") + " at step " + (state.globalStep() + 1)
          + "; lower learning_rate, set max_grad_norm, or use fp32/bf16");
    }
    if (!skip) {
      double clip = args.maxGradNorm() > 0 && norm > args.maxGradNorm() ? args.maxGradNorm() / (norm + 1e-6) : 1.0;
      optimizer.step((float) lr, (float) (clip / lossScale));
    }
    if (!train.hasNext()) {
      train.nextEpoch();
    }
    state = new TrainState(state.globalStep() + 1, train.state(), state.microBatches() + batches,
        state.tokensSeen() + tokens, scaler.scale(), scaler.cleanSteps(), state.bestMetric(), state.bestStep());
    return new StepOutcome(skip ? Double.NaN : lossTotal, lr, norm, skip);
  }

  /** The objective's evaluation over every evaluation batch, without dropout. */
  public EvalResult evaluate() {
    if (eval == null) {
      throw new IllegalStateException("no evaluation set");
    }
    eval.restore(evalStart); // the same batches (and MLM masks) at every evaluation
    return objective.evaluate(eval, arena, parallel);
  }

  private double fractionalEpoch() {
    return state.loader().epoch() + state.loader().position() / (double) train.batchesPerEpoch();
  }

  private static long countTokens(Batch batch) {
    long n = 0;
    for (int m : batch.attentionMask()) {
      n += m;
    }
    return n;
  }

  @Override
  public void close() {
    scalars.close();
    arena.close();
    optimizer.close();
  }
}
