package ai.lmtrain.cli;

import ai.lmtrain.train.RunFolder;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Range checks of numeric flags. A value out of range is a usage error (exit code 2) whose one-line
 * message names the flag, the accepted range and the value given.
 */
final class Flags {
  private Flags() {}

  /** {@code value} in [min, max]. */
  static int inRange(CommandSpec spec, String flag, int value, int min, int max) {
    if (value < min || value > max) {
      throw usage(spec, flag + " must be " + (max == Integer.MAX_VALUE ? "at least " + min
          : "in [" + min + ", " + max + "]") + " (got " + value + ")");
    }
    return value;
  }

  /** {@code value} finite and in (min, max] or [min, max] as {@code minInclusive} says. */
  static double inRange(CommandSpec spec, String flag, double value, double min, boolean minInclusive, double max,
      boolean maxInclusive) {
    boolean ok = Double.isFinite(value) && (minInclusive ? value >= min : value > min)
        && (maxInclusive ? value <= max : value < max);
    if (!ok) {
      String range = (minInclusive ? "[" : "(") + format(min) + ", " + format(max) + (maxInclusive ? "]" : ")");
      throw usage(spec, flag + " must be a finite number in " + range + " (got " + value + ")");
    }
    return value;
  }

  /** The output-folder mode of a command's --resume and --overwrite flags; both at once is a usage error. */
  static RunFolder.Mode runMode(CommandSpec spec, boolean resume, boolean overwrite) {
    try {
      return RunFolder.Mode.of(resume, overwrite);
    } catch (IllegalArgumentException e) {
      throw usage(spec, e.getMessage());
    }
  }

  /** A usage error naming {@code spec}'s command. */
  static CommandLine.ParameterException usage(CommandSpec spec, String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }

  private static String format(double v) {
    if (v == Double.MAX_VALUE) {
      return "inf";
    }
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }
}
