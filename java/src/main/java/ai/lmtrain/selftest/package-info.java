/**
 * Backend self-test: every kernel of {@link ai.lmtrain.tensor.Backend} run with the same random
 * inputs on a reference backend (the CPU) and a backend under test (CUDA), outputs compared under
 * stated tolerances ({@link ai.lmtrain.selftest.Tolerance}) and guard bytes around every tensor
 * checked for stray writes. {@link ai.lmtrain.selftest.OpSuite} lists the cases,
 * {@link ai.lmtrain.selftest.BackendComparison} runs them; {@code lmtrain selftest} and the
 * {@code gpu}-tagged tests both use it.
 */
package ai.lmtrain.selftest;
