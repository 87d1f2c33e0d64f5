package ai.lmtrain.train;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Learning-rate schedules with exactly the formulas of transformers' {@code get_scheduler}. The
 * rate at scheduler step {@code s} is {@code peakLr * factor(s)}, where {@code s} counts the
 * scheduler steps taken so far: the first optimizer update uses {@code s = 0} (so with warmup the
 * very first update has rate 0, as in transformers), and after {@code n} updates the rate is
 * {@code lr(n)}, which is what transformers logs as {@code learning_rate}.
 *
 * <pre>
 * warmup(s)            = s / max(1, warmup)                                  for s &lt; warmup
 * constant             : 1                    (ignores warmup, like get_constant_schedule)
 * constant_with_warmup : warmup(s), then 1
 * linear               : warmup(s), then max(0, (total - s) / max(1, total - warmup))
 * cosine               : warmup(s), then max(0, 0.5 (1 + cos(pi * 2 * 0.5 * p))),
 *                        p = (s - warmup) / max(1, total - warmup)
 * </pre>
 *
 * Past {@code total}, linear stays at 0 and cosine (num_cycles 0.5) rises again, as in
 * transformers.
 *
 * @param kind the schedule
 * @param peakLr the rate reached after warmup (transformers' {@code learning_rate})
 * @param warmupSteps num_warmup_steps, {@code >= 0}
 * @param totalSteps num_training_steps, {@code >= 0}
 */
public record LrSchedule(Kind kind, double peakLr, long warmupSteps, long totalSteps) {
  /** The schedules, named as transformers' {@code lr_scheduler_type} values. */
  public enum Kind {
    /** {@code "constant"}. */
    CONSTANT("constant"),
    /** {@code "constant_with_warmup"}. */
    CONSTANT_WITH_WARMUP("constant_with_warmup"),
    /** {@code "linear"}, transformers' default. */
    LINEAR("linear"),
    /** {@code "cosine"}, half a cosine period from peak to 0. */
    COSINE("cosine");

    private final String hfName;

    Kind(String hfName) {
      this.hfName = hfName;
    }

    /** The transformers {@code lr_scheduler_type} string. */
    public String hfName() {
      return hfName;
    }

    /**
     * The kind named {@code name} ("linear", "cosine", ...).
     *
     * @throws IllegalArgumentException listing the supported names
     */
    public static Kind fromHfName(String name) {
      for (Kind kind : values()) {
        if (kind.hfName.equals(name)) {
          return kind;
        }
      }
      throw new IllegalArgumentException("unknown lr_scheduler_type '" + name + "' (expected one of "
          + Arrays.stream(values()).map(Kind::hfName).collect(Collectors.joining(", ")) + ")");
    }
  }

  /** The number of cosine cycles of transformers' default cosine schedule. */
  private static final double NUM_CYCLES = 0.5;

  /**
   * Validates the arguments.
   *
   * @throws IllegalArgumentException naming the bad value
   */
  public LrSchedule {
    if (kind == null) {
      throw new IllegalArgumentException("lr schedule kind must not be null");
    }
    if (!(peakLr >= 0) || Double.isInfinite(peakLr)) {
      throw new IllegalArgumentException("learning rate must be a finite number >= 0, got " + peakLr);
    }
    if (warmupSteps < 0) {
      throw new IllegalArgumentException("warmup steps must be >= 0, got " + warmupSteps);
    }
    if (totalSteps < 0) {
      throw new IllegalArgumentException("total training steps must be >= 0, got " + totalSteps);
    }
  }

  /** The schedule named by a transformers {@code lr_scheduler_type} string. */
  public static LrSchedule of(String hfName, double peakLr, long warmupSteps, long totalSteps) {
    return new LrSchedule(Kind.fromHfName(hfName), peakLr, warmupSteps, totalSteps);
  }

  /** The learning rate for scheduler step {@code step} (0 for the first update). */
  public double lr(long step) {
    return peakLr * factor(step);
  }

  /** The multiplier of {@link #peakLr()} at scheduler step {@code step}: transformers' lr_lambda. */
  public double factor(long step) {
    if (step < 0) {
      throw new IllegalArgumentException("scheduler step must be >= 0, got " + step);
    }
    if (kind != Kind.CONSTANT && step < warmupSteps) {
      return (double) step / Math.max(1, warmupSteps);
    }
    double decaySteps = Math.max(1, totalSteps - warmupSteps);
    return switch (kind) {
      case CONSTANT, CONSTANT_WITH_WARMUP -> 1.0;
      case LINEAR -> Math.max(0.0, (totalSteps - step) / decaySteps);
      case COSINE -> {
        double progress = (step - warmupSteps) / decaySteps;
        yield Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * NUM_CYCLES * 2.0 * progress)));
      }
    };
  }
}
