package ai.lmtrain.bench;

/**
 * One line of a benchmark table: our figure and the peer's, measured in the same run on the same
 * machine. A figure that could not be measured (the peer is unavailable) is NaN.
 *
 * @param name the case
 * @param unit the unit of both figures
 * @param ours our figure
 * @param peer the peer's figure, or NaN
 */
public record BenchRow(String name, Unit unit, double ours, double peer) {

  /**
   * Our speed over the peer's: ours / peer for throughputs, peer / ours for times (and memory), so
   * that a ratio above 1 always means we are faster (or need less). NaN when either figure is missing.
   */
  public double ratio() {
    if (!Double.isFinite(ours) || !Double.isFinite(peer) || ours <= 0 || peer <= 0) {
      return Double.NaN;
    }
    return unit.higherIsBetter() ? ours / peer : peer / ours;
  }
}
