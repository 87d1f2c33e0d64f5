package ai.lmtrain.bench;

/**
 * The unit of a benchmark figure, and whether a larger value is better (throughput) or worse (time,
 * memory).
 */
public enum Unit {
  MB_PER_S("MB/s", true, 1e6),
  GB_PER_S("GB/s", true, 1e9),
  GFLOP_PER_S("GFLOP/s", true, 1e9),
  TFLOP_PER_S("TFLOP/s", true, 1e12),
  PERCENT_OF_PEAK("% peak", true, 1e-2),
  TOKENS_PER_S("tokens/s", true, 1),
  SEQUENCES_PER_S("seq/s", true, 1),
  MS_PER_STEP("ms/step", false, 1e-3),
  STEPS_PER_S("steps/s", true, 1),
  MILLISECONDS("ms", false, 1e-3),
  /** Memory: {@link #of} takes bytes where the time units take seconds. */
  MIB("MiB", false, 1024.0 * 1024.0),
  /** Processor time (all threads of the process) per megabyte of input: {@link #of} takes bytes and CPU seconds. */
  CPU_MS_PER_MB("CPU ms/MB", false, 1e6);

  private final String symbol;
  private final boolean higherIsBetter;
  private final double scale;

  Unit(String symbol, boolean higherIsBetter, double scale) {
    this.symbol = symbol;
    this.higherIsBetter = higherIsBetter;
    this.scale = scale;
  }

  /**
   * The figure of a run that did {@code work} (flops, bytes, tokens ...; ignored for times) in
   * {@code seconds}: work per second in this unit, or the time itself for a time unit (the bytes
   * for {@link #MIB}; CPU milliseconds per MB of {@code work} bytes for {@link #CPU_MS_PER_MB}). NaN stays NaN.
   */
  public double of(double work, double seconds) {
    if (this == CPU_MS_PER_MB) {
      return seconds * 1e3 / (work / scale);
    }
    return higherIsBetter ? work / seconds / scale : seconds / scale;
  }

  /** How the unit is printed, e.g. "GFLOP/s". */
  public String symbol() {
    return symbol;
  }

  /** True for throughputs, false for times and memory. */
  public boolean higherIsBetter() {
    return higherIsBetter;
  }
}
