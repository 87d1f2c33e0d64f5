package ai.lmtrain.bench;

import java.util.Arrays;

/** Wall-clock timing: warm-up runs, then the median of timed runs. */
public final class Timing {
  private Timing() {}

  /**
   * The median seconds of {@code repetitions} runs of {@code work} after {@code warmup} untimed
   * ones; {@code sync} runs after each and is timed with it (for a GPU: wait for queued kernels).
   */
  public static double medianSeconds(Runnable work, int warmup, int repetitions, Runnable sync) {
    for (int i = 0; i < warmup; i++) {
      work.run();
    }
    sync.run();
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
