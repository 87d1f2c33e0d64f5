package ai.lmtrain.tensor;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

/**
 * Shared helpers for kernel tests: seeded random data, upload into fresh tensors, tolerance
 * comparisons that report the worst element, and central finite differences of a scalar loss.
 */
public final class KernelTestSupport {
  private KernelTestSupport() {}

  /** Sizes every kernel is exercised on: tiny, odd, around a power of two, larger odd. */
  public static final int[] ODD_AND_EVEN_SIZES = {1, 31, 32, 33, 127};

  /** n values uniform in [-scale, scale) from {@code seed}. */
  public static float[] randomFloats(long seed, int n, double scale) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
    }
    return x;
  }

  /** n ints uniform in [0, bound). */
  public static int[] randomInts(long seed, int n, int bound) {
    SplittableRandom r = new SplittableRandom(seed);
    int[] x = new int[n];
    for (int i = 0; i < n; i++) {
      x[i] = r.nextInt(bound);
    }
    return x;
  }

  /** A new F32 tensor (in {@code arena}) holding {@code values}. */
  public static Tensor f32(Backend backend, Arena arena, float[] values, long... shape) {
    return floats(backend, arena, DType.F32, values, shape);
  }

  /** A new float tensor of type {@code dtype} holding {@code values} (rounded to the type). */
  public static Tensor floats(Backend backend, Arena arena, DType dtype, float[] values, long... shape) {
    Tensor t = arena.allocate(dtype, shape);
    backend.upload(t, values);
    return t;
  }

  /** A new I32 tensor holding {@code values}. */
  public static Tensor i32(Backend backend, Arena arena, int[] values, long... shape) {
    Tensor t = arena.allocate(DType.I32, shape);
    backend.upload(t, values);
    return t;
  }

  /** Values rounded through {@code dtype} and back (what a kernel of that type sees as input). */
  public static float[] roundTo(DType dtype, float[] x) {
    float[] y = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      y[i] = switch (dtype) {
        case BF16 -> DType.bf16ToFloat(DType.floatToBf16(x[i]));
        case F16 -> DType.f16ToFloat(DType.floatToF16(x[i]));
        default -> x[i];
      };
    }
    return y;
  }

  /**
   * Asserts |actual - expected| <= atol + rtol * |expected| elementwise, naming the worst element.
   */
  public static void assertClose(String what, double[] expected, float[] actual, double atol, double rtol) {
    if (expected.length != actual.length) {
      fail(what + ": length " + actual.length + ", expected " + expected.length);
    }
    int worst = -1;
    double worstExcess = 0;
    for (int i = 0; i < expected.length; i++) {
      double err = Math.abs(actual[i] - expected[i]);
      double excess = err - (atol + rtol * Math.abs(expected[i]));
      if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) { // NaN counts as a failure
        worst = i;
        worstExcess = excess;
      }
    }
    if (worst >= 0) {
      fail(String.format("%s: element %d is %s, expected %s (atol %g, rtol %g)", what, worst, actual[worst],
          expected[worst], atol, rtol));
    }
  }

  /** Float overload of {@link #assertClose(String, double[], float[], double, double)}. */
  public static void assertClose(String what, float[] expected, float[] actual, double atol, double rtol) {
    double[] e = new double[expected.length];
    for (int i = 0; i < e.length; i++) {
      e[i] = expected[i];
    }
    assertClose(what, e, actual, atol, rtol);
  }

  /**
   * Central finite difference d loss / d x[i] with step h, where {@code loss} recomputes the loss
   * from the current contents of {@code x} (which this method perturbs and restores).
   */
  public static double finiteDifference(float[] x, int i, double h, DoubleSupplier loss) {
    float saved = x[i];
    x[i] = (float) (saved + h);
    double plus = loss.getAsDouble();
    x[i] = (float) (saved - h);
    double minus = loss.getAsDouble();
    x[i] = saved;
    return (plus - minus) / (2 * h);
  }
}
