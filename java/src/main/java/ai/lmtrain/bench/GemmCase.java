package ai.lmtrain.bench;

import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.Tensor;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One GEMM shape: C (M, N) = op(A) . op(B) with op(A) (M, K) and op(B) (K, N); A is stored (K, M)
 * when {@code transA}, B (N, K) when {@code transB} (a Linear layer's x . W^T).
 *
 * @param name the case name
 */
public record GemmCase(String name, long m, long k, long n, boolean transA, boolean transB) {

  /** A case named "gemm MxKxN XY" with XY = N or T per operand. */
  public static GemmCase of(long m, long k, long n, boolean transA, boolean transB) {
    return new GemmCase("gemm " + m + "x" + k + "x" + n + " " + (transA ? "T" : "N") + (transB ? "T" : "N"), m, k, n,
        transA, transB);
  }

  /** 2 M N K floating-point operations. */
  public double flops() {
    return 2.0 * m * n * k;
  }

  /** The case as the peer scripts read it: {case, m, k, n, trans_a, trans_b}. */
  public ObjectNode toJson() {
    return JsonNodeFactory.instance.objectNode().put("case", name).put("m", m).put("k", k).put("n", n)
        .put("trans_a", transA).put("trans_b", transB);
  }

  /** Median seconds of our {@link Backend#matmul} on random {@code dtype} operands (C of the same type). */
  public double medianSeconds(Backend backend, DType dtype, int warmup, int repetitions) {
    try (Scratch s = new Scratch(backend, 1)) {
      Tensor a = transA ? s.uniform(dtype, k, m) : s.uniform(dtype, m, k);
      Tensor b = transB ? s.uniform(dtype, n, k) : s.uniform(dtype, k, n);
      Tensor c = s.empty(dtype, m, n);
      return Timing.medianSeconds(() -> backend.matmul(c, a, b, null, transA, transB, 1f, 0f), warmup, repetitions,
          backend::synchronize);
    }
  }
}
