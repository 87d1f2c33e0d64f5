package ai.lmtrain.train;

/**
 * Whether this Java runtime can draw plots. {@link LossPlot} needs the java.desktop module (AWT),
 * which the slim GPU bundle leaves out; callers ask here first, because merely loading LossPlot
 * without AWT fails. Without it, runs keep their metrics.jsonl and skip the PNG.
 */
public final class PlotSupport {
  private PlotSupport() {}

  /** True when java.desktop is present. */
  public static boolean available() {
    return ModuleLayer.boot().findModule("java.desktop").isPresent();
  }
}
