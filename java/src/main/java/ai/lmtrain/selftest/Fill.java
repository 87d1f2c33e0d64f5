package ai.lmtrain.selftest;

import ai.lmtrain.tensor.DType;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * How a case tensor is initialised: a generator of its stored bytes. The comparison draws the
 * bytes once per case (from a random source seeded by the case and tensor name) and uploads the
 * same bytes to both backends.
 */
@FunctionalInterface
public interface Fill {

  /** The little-endian contents of a tensor of {@code numel} elements of type {@code dtype}. */
  byte[] bytes(DType dtype, int numel, SplittableRandom random);

  /** Floats uniform in [lo, hi), rounded to the tensor's float type. */
  static Fill uniform(double lo, double hi) {
    return (dtype, numel, random) -> {
      float[] x = new float[numel];
      for (int i = 0; i < numel; i++) {
        x[i] = (float) (lo + (hi - lo) * random.nextDouble());
      }
      return HostData.encodeFloats(dtype, x);
    };
  }

  /** Floats uniform in [-scale, scale). */
  static Fill symmetric(double scale) {
    return uniform(-scale, scale);
  }

  /**
   * Every byte 0xFF: NaN in every float type and -1 in the integer types. The initial contents of
   * outputs the op overwrites, so an element it forgets to write cannot match the reference's
   * written value (unless both forget).
   */
  static Fill unset() {
    return (dtype, numel, random) -> {
      byte[] x = new byte[numel * dtype.bytes()];
      Arrays.fill(x, (byte) 0xFF);
      return x;
    };
  }

  /** Exactly these I32 values (the tensor must have as many elements). */
  static Fill ints(int... values) {
    return (dtype, numel, random) -> {
      requireCount(values.length, numel);
      return HostData.encodeInts(values);
    };
  }

  /** I32 values uniform in [0, bound). */
  static Fill randomInts(int bound) {
    return (dtype, numel, random) -> {
      int[] x = new int[numel];
      for (int i = 0; i < numel; i++) {
        x[i] = random.nextInt(bound);
      }
      return HostData.encodeInts(x);
    };
  }

  /** U8 values, each 1 with probability one half and 0 otherwise. */
  static Fill randomBits() {
    return (dtype, numel, random) -> {
      byte[] x = new byte[numel];
      for (int i = 0; i < numel; i++) {
        x[i] = (byte) (random.nextBoolean() ? 1 : 0);
      }
      return x;
    };
  }

  private static void requireCount(int given, int numel) {
    if (given != numel) {
      throw new IllegalArgumentException(given + " values given for a tensor of " + numel + " elements");
    }
  }
}
