package ai.lmtrain.cli;

import ai.lmtrain.train.EvalResult;
import ai.lmtrain.train.TrainState;
import ai.lmtrain.train.TrainingListener;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Training progress on the terminal: a progress bar with the latest loss when stderr is a
 * terminal, and one log line per logging step and evaluation either way (through SLF4J).
 */
final class ConsoleProgress implements TrainingListener, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger("lmtrain");

  private final String run;
  private final boolean interactive;
  private ProgressBar bar;

  ConsoleProgress(String run) {
    this.run = run;
    this.interactive = System.console() != null;
  }

  @Override
  public void onStep(TrainState state, long totalSteps) {
    if (!interactive) {
      return;
    }
    if (bar == null) {
      bar = new ProgressBarBuilder().setTaskName(run).setInitialMax(totalSteps).setStyle(ProgressBarStyle.ASCII)
          .setUpdateIntervalMillis(250).continuousUpdate().build();
    }
    bar.stepTo(state.globalStep());
  }

  @Override
  public void onLog(TrainLog log) {
    if (bar != null) {
      bar.setExtraMessage(String.format(" loss %.4f", log.loss()));
    }
    LOG.info(String.format("[%s] step %d  epoch %.2f  loss %.4f  lr %.3e  grad_norm %.3f  tokens %d  %.0f tok/s%s",
        run, log.step(), log.epoch(), log.loss(), log.learningRate(), log.gradNorm(), log.tokensSeen(),
        log.tokensPerSecond(), log.skippedSteps() > 0
            ? String.format("  (%d fp16 step(s) skipped, loss scale %.0f)", log.skippedSteps(), log.lossScale()) : ""));
  }

  @Override
  public void onEvaluate(EvalResult result, long step, boolean improved) {
    String scores = result.classification() != null
        ? String.format("accuracy %.4f  macro-F1 %.4f", result.accuracy(), result.classification().macroF1())
        : Double.isNaN(result.perplexity()) ? "" // regression: the loss is the mean squared error
        : String.format("perplexity %.3f  accuracy %.4f", result.perplexity(), result.accuracy());
    LOG.info(String.format("[%s] eval at step %d: loss %.4f  %s%s", run, step, result.loss(), scores,
        improved ? "  (best so far)" : ""));
  }

  @Override
  public void close() {
    if (bar != null) {
      bar.close();
    }
  }
}
