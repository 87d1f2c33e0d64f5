package ai.lmtrain.bench;

import java.util.Arrays;

/** Wall-clock timing: warm-up runs, then the median of timed runs. */
public final class Timing {
  /**
   * Untimed runs go on for at least this long (when any are asked for), so that the JVM's
   * just-in-time compilers, busy right after start-up, do not share the cores with timed runs.
   */
  static final double MIN_WARMUP_SECONDS = 1.0;

  private Timing() {}

  /**
   * The median seconds of {@code repetitions} runs of {@code work} after {@code warmup} untimed
   * ones (and, if {@code warmup > 0}, as many more as fill {@link #MIN_WARMUP_SECONDS});
   * {@code sync} runs after each and is timed with it (for a GPU: wait for queued kernels).
   */
  public static double medianSeconds(Runnable work, int warmup, int repetitions, Runnable sync) {
    long warmupStart = System.nanoTime();
    for (int i = 0; i < warmup || (warmup > 0 && (System.nanoTime() - warmupStart) / 1e9 < MIN_WARMUP_SECONDS);
        i++) {
      work.run();
      sync.run();
    }
    double[] seconds = new double[repetitions];
    for (int i = 0; i < repetitions; i++) {
      long start = System.nanoTime();
      work.run();
      sync.run();
      seconds[i] = (System.nanoTime() - start) / 1e9;
    }
    return median(seconds);
  }

  /** The median (the mean of the two middle values for an even count). */
  public static double median(double[] values) {
    if (values.length == 0) {
      throw new IllegalArgumentException("median of no values");
    }
    double[] s = values.clone();
    Arrays.sort(s);
    int mid = s.length / 2;
    return s.length % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  }
}
