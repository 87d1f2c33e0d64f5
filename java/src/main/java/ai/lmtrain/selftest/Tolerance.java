package ai.lmtrain.selftest;

import ai.lmtrain.tensor.DType;

/**
 * How close the backend under test must come to the reference for one output tensor.
 *
 * <p>Element i passes when
 * {@code |test_i - ref_i| <= rtol * |ref_i| + atolFraction * mean_j |ref_j| + atol}:
 * a relative bound, plus an absolute floor scaled to the tensor's mean reference magnitude, so that
 * elements near zero (where two correct summation orders legitimately differ by more than a relative
 * epsilon of the tiny result) do not fail. The mean, not the maximum, sets the floor, so a tensor of
 * many small values and a few large ones (a softmax gradient) is still checked element by element.
 * {@code atol} is the storage type's resolution where it is absolute: F16 values below 2^-14 are
 * subnormal, spaced 2^-24 apart, so one rounding step there is 2^-24 whatever the value (BF16 and
 * F32 keep their relative resolution down to 1e-38: atol 0).
 * The reported relative error of an element is
 * {@code |test_i - ref_i| / (|ref_i| + (atolFraction * mean_j |ref_j| + atol) / rtol)}, so an element passes
 * exactly when its relative error is at most {@link #rtol()}. NaN and infinities must match exactly.
 *
 * <p>Values, by the storage type of the compared tensor and the kind of op ({@link #of}):
 * <pre>
 *                 F32 rtol / floor     BF16, F16 rtol / floor
 *   ELEMENTWISE   1e-5 / 1e-7          1e-2 / 1e-3    one rounding; transcendental ulps differ
 *   REDUCTION     1e-5 / 1e-5          1e-2 / 5e-3    sums in another order (norms, softmax, AdamW)
 *   CONTRACTION   1e-4 / 1e-5          2e-2 / 1e-2    long dot products: matmul, attention forward
 *   ATTENTION_BACKWARD 1e-4 / 1e-5     2e-2 / 1.5e-1  dot products over P and dS rounded to 16 bits
 *   EXACT         0    / 0             0    / 0       casts, integer outputs (counts)
 * </pre>
 * F32 matmul and attention are looser (1e-4) because their dot products run over hundreds of terms
 * in a blocked order; they must still be true fp32 (TF32 tensor cores, ~1e-3, would fail). A half
 * output may differ by one rounding step (2^-8 relative for BF16), which 1e-2 covers.
 *
 * <p>The 16-bit attention backward on the GPU runs its products on the tensor cores, so it rounds the
 * probabilities P and the score gradients dS to the storage type before multiplying (as
 * FlashAttention-2 does), where the CPU keeps them fp32: elements near zero, after cancellation, then
 * differ by a few percent of the tensor's mean magnitude (on an H200, 2026-12-04: up to 5.9 times the
 * CONTRACTION bound). {@code scripts/parity/attention_half_rounding.py} emulates exactly those
 * roundings in float64 on the selftest's shapes; over 5 inputs per shape its worst BF16 element uses
 * 0.59 of the ATTENTION_BACKWARD bound (F16: 0.06), while the tensor's norm-relative difference stays
 * near 3e-3.
 *
 * @param rtol bound on the relative error
 * @param atolFraction absolute floor, as a fraction of the tensor's mean reference magnitude
 * @param atol absolute floor in the tensor's units (the storage type's subnormal spacing, or 0)
 */
public record Tolerance(double rtol, double atolFraction, double atol) {

  /** No difference allowed (integer outputs). */
  public static final Tolerance EXACT = new Tolerance(0, 0, 0);

  /** Spacing of F16's subnormal values (below 2^-14): its one rounding step there. */
  static final double F16_SUBNORMAL_STEP = 0x1p-24;

  /** How much rounding an op accumulates, which sets its tolerance. */
  public enum Kind {
    /** Bit-exact results (casts with round-to-nearest-even, counts). */
    EXACT,
    /** One result per element from a few operations (add, GELU, dropout, cast). */
    ELEMENTWISE,
    /** Sums over a row or the whole tensor (LayerNorm, softmax cross-entropy, bias grad, AdamW, norms). */
    REDUCTION,
    /** Long dot products (matmul, attention forward). */
    CONTRACTION,
    /** Attention backward: long dot products over probabilities and score gradients that the
     *  16-bit tensor-core kernels round to the storage type. */
    ATTENTION_BACKWARD
  }

  public Tolerance {
    if (!(rtol >= 0) || !(atolFraction >= 0) || !(atol >= 0)) {
      throw new IllegalArgumentException("tolerances must be >= 0 (got rtol " + rtol + ", atolFraction " + atolFraction
          + ", atol " + atol + ")");
    }
  }

  /** A tolerance with no absolute floor in the tensor's units. */
  public Tolerance(double rtol, double atolFraction) {
    this(rtol, atolFraction, 0);
  }

  /** The tolerance for an output of storage type {@code dtype} computed by an op of {@code kind}. */
  public static Tolerance of(Kind kind, DType dtype) {
    if (kind == Kind.EXACT || !dtype.isFloat()) {
      return EXACT;
    }
    boolean f32 = dtype == DType.F32;
    double atol = dtype == DType.F16 ? F16_SUBNORMAL_STEP : 0;
    return switch (kind) {
      case ELEMENTWISE -> f32 ? new Tolerance(1e-5, 1e-7) : new Tolerance(1e-2, 1e-3, atol);
      case REDUCTION -> f32 ? new Tolerance(1e-5, 1e-5) : new Tolerance(1e-2, 5e-3, atol);
      case CONTRACTION -> f32 ? new Tolerance(1e-4, 1e-5) : new Tolerance(2e-2, 1e-2, atol);
      case ATTENTION_BACKWARD -> f32 ? new Tolerance(1e-4, 1e-5) : new Tolerance(2e-2, 1.5e-1, atol);
      case EXACT -> EXACT;
    };
  }

  /**
   * Compares one tensor: the largest absolute and relative errors and the element with the
   * largest relative error.
   */
  public TensorError compare(String tensor, double[] reference, double[] test) {
    if (reference.length != test.length) {
      throw new IllegalArgumentException(tensor + ": " + test.length + " elements, reference has " + reference.length);
    }
    double sum = 0;
    int finite = 0;
    for (double r : reference) {
      if (Double.isFinite(r)) {
        sum += Math.abs(r);
        finite++;
      }
    }
    double meanRef = finite == 0 ? 0 : sum / finite;
    double floor = rtol == 0 ? 0 : (atolFraction * meanRef + atol) / rtol;
    double maxAbs = 0;
    double maxRel = 0;
    int worst = -1;
    for (int i = 0; i < reference.length; i++) {
      double abs = error(reference[i], test[i]);
      double denominator = Math.abs(reference[i]) + floor;
      double rel = abs == 0 ? 0 : Double.isInfinite(abs) || denominator == 0 ? Double.POSITIVE_INFINITY : abs / denominator;
      maxAbs = Math.max(maxAbs, abs);
      if (worst < 0 || rel > maxRel) {
        maxRel = rel;
        worst = i;
      }
    }
    return new TensorError(tensor, maxAbs, maxRel, this, worst, worst < 0 ? 0 : reference[worst],
        worst < 0 ? 0 : test[worst]);
  }

  /** |test - ref|, 0 when both are the same NaN/infinity, infinite when only one is non-finite. */
  private static double error(double ref, double test) {
    if (Double.isFinite(ref) && Double.isFinite(test)) {
      return Math.abs(test - ref);
    }
    boolean same = Double.isNaN(ref) ? Double.isNaN(test) : ref == test;
    return same ? 0 : Double.POSITIVE_INFINITY;
  }

  /**
   * The outcome of comparing one tensor.
   *
   * @param tensor the tensor's name in its case
   * @param maxAbs largest |test - ref|
   * @param maxRel largest relative error (see {@link Tolerance})
   * @param tolerance the tolerance applied
   * @param worstIndex the element with the largest relative error (-1 for an empty tensor)
   * @param reference the reference value there
   * @param test the tested value there
   */
  public record TensorError(String tensor, double maxAbs, double maxRel, Tolerance tolerance, int worstIndex,
      double reference, double test) {

    /** Whether every element is within the tolerance. */
    public boolean passed() {
      return maxRel <= tolerance.rtol();
    }

    /** How far over (> 1) or under (<= 1) the tolerance the worst element is. */
    double severity() {
      return tolerance.rtol() == 0 ? (maxRel == 0 ? 0 : Double.POSITIVE_INFINITY) : maxRel / tolerance.rtol();
    }
  }
}
