package ai.lmtrain.selftest;

import ai.lmtrain.tensor.DType;

/**
 * One row of a self-test report. The error columns are those of the case's worst output (the one
 * furthest over, or closest to, its tolerance); {@code problem} says why a failed case failed.
 *
 * @param op the op
 * @param dtype the case's activation type
 * @param caseName shape and flags
 * @param tensor the worst output's name ("" when the case did not get as far as comparing)
 * @param maxAbsError largest |test - ref| of that output
 * @param maxRelError largest relative error of that output (see {@link Tolerance})
 * @param tolerance the bound on {@code maxRelError}
 * @param passed whether every output is within tolerance, every guard intact and every input unchanged
 * @param problem null when passed; otherwise what went wrong, e.g. "out[17]: 0.5 but reference 0.25",
 *     "guard after 'out' overwritten", "cuda:0 failed: ..."
 */
public record CaseResult(String op, DType dtype, String caseName, String tensor, double maxAbsError,
    double maxRelError, double tolerance, boolean passed, String problem) {

  /** "op dtype caseName". */
  public String id() {
    return op + " " + dtype + " " + caseName;
  }
}
