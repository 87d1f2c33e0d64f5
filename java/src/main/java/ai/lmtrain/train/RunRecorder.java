package ai.lmtrain.train;

import ai.lmtrain.models.Model;
import ai.lmtrain.tokenizers.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a training run records in its output folder, shared by pre-training and fine-tuning:
 * metrics.jsonl lines, TensorBoard scalars (and text samples) when report_to asks for them, the
 * best model ({@code best/}) at each improving evaluation, and the resumable {@code checkpoint/}
 * whenever the trainer says one is due; {@code display} sees every event too.
 */
final class RunRecorder implements TrainingListener {
  private static final Logger LOG = LoggerFactory.getLogger(RunRecorder.class);

  private final String runName;
  private final Path outputDir;
  private final Model model;
  private final Tokenizer tokenizer;
  private final TrainingData trainingData;
  private final MetricsLog metrics;
  private final List<MetricsEvent> events;
  private final TensorBoardLog tensorBoard;
  private final boolean mlm;
  private final LongFunction<String> evalSamples;
  private final TrainingListener display;

  /**
   * @param trainingData what the run trains on, recorded in each checkpoint, or null (fine-tuning)
   * @param tensorBoard the event file, or null (report_to "none")
   * @param mlm record eval accuracy as mlm_accuracy (BERT pre-training)
   * @param evalSamples markdown text logged to TensorBoard after each evaluation at a step, or null
   */
  RunRecorder(String runName, Path outputDir, Model model, Tokenizer tokenizer, TrainingData trainingData,
      MetricsLog metrics, List<MetricsEvent> events, TensorBoardLog tensorBoard, boolean mlm,
      LongFunction<String> evalSamples, TrainingListener display) {
    this.runName = runName;
    this.outputDir = outputDir;
    this.model = model;
    this.tokenizer = tokenizer;
    this.trainingData = trainingData;
    this.metrics = metrics;
    this.events = events;
    this.tensorBoard = tensorBoard;
    this.mlm = mlm;
    this.evalSamples = evalSamples;
    this.display = display;
  }

  /**
   * The run's TensorBoard event file as the arguments ask (report_to, logging_dir), or null. A run
   * resumed at {@code resumedStep} > 0 marks the restart so that TensorBoard drops the events the
   * interrupted run logged after its checkpoint.
   */
  static TensorBoardLog openTensorBoard(TrainingArguments args, Path outputDir, long resumedStep) throws IOException {
    if (!args.reportsToTensorBoard()) {
      return null;
    }
    TensorBoardLog log = TensorBoardLog.open(args.loggingDir() != null ? Path.of(args.loggingDir())
        : TensorBoardLog.defaultDir(outputDir));
    if (resumedStep > 0) {
      log.sessionStart(resumedStep + 1);
    }
    LOG.info("TensorBoard event file: {}", log.file());
    return log;
  }

  @Override
  public void onLog(TrainLog log) {
    record(MetricsEvent.train(runName, log.step()).epoch(log.epoch()).loss(log.loss()).lr(log.learningRate())
        .gradNorm(log.gradNorm()).tokensSeen(log.tokensSeen()).tokensPerS(log.tokensPerSecond()).build());
    if (tensorBoard != null) {
      io(() -> {
        tensorBoard.scalar("train/loss", log.step(), log.loss());
        tensorBoard.scalar("train/learning_rate", log.step(), log.learningRate());
        tensorBoard.scalar("train/grad_norm", log.step(), log.gradNorm());
        tensorBoard.scalar("train/epoch", log.step(), log.epoch());
        tensorBoard.scalar("train/tokens_per_second", log.step(), log.tokensPerSecond());
        tensorBoard.scalar("train/loss_scale", log.step(), log.lossScale());
      }, "writing " + tensorBoard.file());
    }
    display.onLog(log);
  }

  @Override
  public void onEvaluate(EvalResult result, long step, boolean improved) {
    MetricsEvent.Builder b = MetricsEvent.eval(runName, step).loss(result.loss());
    if (result.classification() != null) {
      b.classification(result.classification());
    } else if (mlm) {
      b.mlmAccuracy(result.accuracy()).sentencePair(result.sentencePair());
    }
    record(b.build());
    if (tensorBoard != null) {
      io(() -> {
        tensorBoard.scalar("eval/loss", step, result.loss());
        if (!Double.isNaN(result.perplexity())) {
          tensorBoard.scalar("eval/perplexity", step, result.perplexity());
        }
        if (!Double.isNaN(result.accuracy())) {
          tensorBoard.scalar("eval/accuracy", step, result.accuracy());
        }
        SentencePairMetrics pairs = result.sentencePair();
        if (pairs != null) {
          tensorBoard.scalar("eval/mlm_loss", step, pairs.mlmLoss());
          tensorBoard.scalar("eval/" + pairs.task() + "_loss", step, pairs.loss());
          tensorBoard.scalar("eval/" + pairs.task() + "_accuracy", step, pairs.accuracy());
        }
        if (result.classification() != null) {
          tensorBoard.scalar("eval/f1", step, result.classification().macroF1());
          tensorBoard.scalar("eval/precision", step, result.classification().macroPrecision());
          tensorBoard.scalar("eval/recall", step, result.classification().macroRecall());
        }
        if (evalSamples != null) {
          tensorBoard.text("eval/samples", step, evalSamples.apply(step));
        }
      }, "writing " + tensorBoard.file());
    }
    if (improved) {
      io(() -> Checkpoints.saveModel(outputDir.resolve("best"), model, tokenizer),
          "saving the best model in " + outputDir.resolve("best"));
    }
    display.onEvaluate(result, step, improved);
  }

  @Override
  public void onStep(TrainState state, long totalSteps) {
    display.onStep(state, totalSteps);
  }

  @Override
  public void onSave(Trainer trainer, boolean last) {
    io(() -> Checkpoints.saveTraining(outputDir.resolve("checkpoint"), trainer, tokenizer, trainingData),
        "saving a checkpoint in " + outputDir);
    display.onSave(trainer, last);
  }

  /** loss.png from the whole metrics.jsonl, so a resumed run's plot covers its earlier part too. */
  static void plotLosses(String runName, Path outputDir, List<MetricsEvent> all) throws IOException {
    if (all.isEmpty()) {
      LOG.warn("{}: no metrics yet, so no loss.png", runName);
    } else if (PlotSupport.available()) {
      LossPlot.write(outputDir.resolve("loss.png"), all, LossPlot.DEFAULT_WIDTH, LossPlot.DEFAULT_HEIGHT);
    } else {
      LOG.warn("{}: loss.png skipped (this Java runtime has no java.desktop module); draw it from {} with"
          + " 'lmtrain plot' on a full JDK", runName, MetricsLog.FILE_NAME);
    }
  }

  /** An action that may fail with an I/O error. */
  @FunctionalInterface
  private interface IoAction {
    void run() throws IOException;
  }

  private static void io(IoAction action, String what) {
    try {
      action.run();
    } catch (IOException e) {
      throw new UncheckedIOException(what + " failed: " + e.getMessage(), e);
    }
  }

  private void record(MetricsEvent event) {
    events.add(event);
    io(() -> metrics.append(event), "writing " + metrics.file());
  }
}
