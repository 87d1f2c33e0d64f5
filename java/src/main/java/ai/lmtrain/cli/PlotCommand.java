package ai.lmtrain.cli;

import ai.lmtrain.train.LossPlot;
import ai.lmtrain.train.PlotSupport;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lmtrain plot}: the train/validation loss PNG of one or several runs from their metrics.jsonl files. */
@Command(name = "plot", mixinStandardHelpOptions = true,
    description = "Draw train and validation loss of one or several runs from metrics.jsonl files.")
final class PlotCommand implements Callable<Integer> {
  @Option(names = "--metrics", required = true, arity = "1..*", paramLabel = "FILE", description = "metrics.jsonl files")
  List<Path> metrics;

  @Option(names = "--output", required = true, paramLabel = "PNG", description = "the image to write")
  Path output;

  @Option(names = "--width", defaultValue = "1000", description = "pixels (default: ${DEFAULT-VALUE})")
  int width;

  @Option(names = "--height", defaultValue = "600", description = "pixels (default: ${DEFAULT-VALUE})")
  int height;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Flags.inRange(spec, "--width", width, 1, 16384);
    Flags.inRange(spec, "--height", height, 1, 16384);
    if (!PlotSupport.available()) {
      throw new IllegalStateException("this Java runtime has no java.desktop module, so it cannot draw PNGs"
          + " (the GPU bundle's runtime leaves it out); run 'lmtrain plot' with a full JDK");
    }
    LossPlot.writeFromMetrics(output, metrics, width, height);
    System.out.println("wrote " + output);
    return 0;
  }
}
