package ai.lmtrain.selftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.CpuBackend;
import ai.lmtrain.tensor.DType;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The self-test machinery on the CPU: the CPU agrees with itself on every case, the catalogue
 * covers every kernel of {@link Backend} in every float type, and a backend under test that perturbs an output, writes outside it, modifies an
 * input or fails is reported as a failed case.
 */
class BackendComparisonTest {
  /** Backend methods that manage memory rather than run a kernel. */
  static final Set<String> MEMORY_METHODS = Set.of("device", "memoryBytes", "allocate", "free", "synchronize", "zero",
      "copy", "upload", "uploadBytes", "downloadFloats", "downloadInts", "downloadBytes", "close");

  private static CpuBackend reference;

  @BeforeAll
  static void open() {
    reference = new CpuBackend();
  }

  @AfterAll
  static void close() {
    reference.close();
  }

  @Test
  void cpuAgreesWithItselfOnEveryCase() {
    List<OpCase> cases = OpSuite.all();
    try (CpuBackend underTest = new CpuBackend()) {
      List<CaseResult> rows = new BackendComparison(reference, underTest).runAll(cases);
      assertEquals(cases.size(), rows.size());
      List<String> failed = rows.stream().filter(r -> !r.passed()).map(r -> r.id() + ": " + r.problem()).toList();
      assertTrue(failed.isEmpty(), "failed: " + failed);
      assertTrue(rows.stream().allMatch(r -> r.maxAbsError() == 0), "the same kernels on the same inputs must agree exactly");
    }
  }

  @Test
  void catalogueCoversEveryKernelOfBackendInEveryFloatType() {
    SortedSet<String> kernels = new TreeSet<>();
    for (Method m : Backend.class.getMethods()) {
      if (!MEMORY_METHODS.contains(m.getName())) {
        kernels.add(m.getName());
      }
    }
    assertEquals(kernels, OpSuite.opNames());
    for (String op : kernels) {
      Set<DType> types = OpSuite.ofOps(List.of(op)).stream().map(OpCase::dtype).collect(Collectors.toSet());
      assertEquals(Set.of(DType.F32, DType.BF16, DType.F16), types, op);
    }
    Set<String> ids = OpSuite.all().stream().map(OpCase::id).collect(Collectors.toSet());
    assertEquals(OpSuite.all().size(), ids.size(), "case ids must be unique (they name the test cases)");
  }

  @Test
  void attentionCasesCoverHeadDimsCausalAndPadded() {
    List<String> names = OpSuite.ofOps(List.of("attentionForward")).stream().map(OpCase::name).toList();
    for (String expected : List.of("hd=32 causal", "hd=64 causal", "hd=128 causal", "hd=32 padded", "hd=128 padded")) {
      assertTrue(names.stream().anyMatch(n -> n.contains(expected)), expected + " missing from " + names);
    }
    List<String> ce = OpSuite.ofOps(List.of("softmaxCrossEntropy")).stream().map(OpCase::name).toList();
    for (String expected : List.of("V=1000", "V=30522", "V=50257", "in place")) {
      assertTrue(ce.stream().anyMatch(n -> n.contains(expected)), expected + " missing from " + ce);
    }
  }

  @Test
  void unknownOpIsRejectedWithTheKnownNames() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OpSuite.ofOps(List.of("gelu", "nope")));
    assertTrue(e.getMessage().startsWith("unknown op 'nope' (expected one of "), e.getMessage());
    assertTrue(e.getMessage().contains("matmul"), e.getMessage());
  }

  @ParameterizedTest
  @EnumSource(FaultyCpuBackend.Fault.class)
  void aMisbehavingBackendUnderTestFailsTheCase(FaultyCpuBackend.Fault fault) {
    OpCase gelu = OpSuite.ofOps(List.of("gelu")).stream().filter(c -> c.dtype() == DType.F32)
        .filter(c -> c.name().endsWith("n=4097")).findFirst().orElseThrow();
    CaseResult row;
    try (FaultyCpuBackend underTest = new FaultyCpuBackend(fault)) {
      row = new BackendComparison(reference, underTest).run(gelu);
    }
    assertFalse(row.passed(), fault + " went unnoticed");
    String expected = switch (fault) {
      case PERTURB_ONE_ELEMENT -> "out[2048] is ";
      case WRITE_PAST_END -> "cpu: the guard after 'out' was overwritten";
      case WRITE_BEFORE_START -> "cpu: the guard before 'out' was overwritten";
      case MODIFY_INPUT -> "cpu: input 'x' was modified";
      case FAIL -> "cpu: NativeException: lmt_gelu_forward: simulated kernel failure";
    };
    assertTrue(row.problem().startsWith(expected), row.problem());
    if (fault == FaultyCpuBackend.Fault.PERTURB_ONE_ELEMENT) {
      assertEquals("out", row.tensor());
      assertTrue(row.maxRelError() > row.tolerance(), row.toString());
      assertTrue(row.maxAbsError() > 5e-4, row.toString());
    }
  }

  @Test
  void toleranceAllowsTheFloorAndMatchesNonFiniteValuesExactly() {
    Tolerance t = new Tolerance(1e-5, 1e-5); // floor = mean |ref| = 1 here
    double[] ref = {2, 0, Double.NaN, Double.POSITIVE_INFINITY, -1};
    Tolerance.TensorError same = t.compare("x", ref, ref.clone());
    assertTrue(same.passed());
    assertEquals(0, same.maxAbs());
    // 0 vs 1e-5: relative to |0| + floor 1 is 1e-5, at the bound; 2 vs 2.00002 is 6.7e-6 relative to 2 + 1
    Tolerance.TensorError near = t.compare("x", ref, new double[] {2.00002, 1e-5, Double.NaN, Double.POSITIVE_INFINITY, -1});
    assertTrue(near.passed(), near.toString());
    Tolerance.TensorError far = t.compare("x", ref, new double[] {2, 3e-5, Double.NaN, Double.POSITIVE_INFINITY, -1});
    assertFalse(far.passed());
    assertEquals(1, far.worstIndex());
    Tolerance.TensorError nan = t.compare("x", ref, new double[] {2, 0, 1, Double.POSITIVE_INFINITY, -1});
    assertFalse(nan.passed());
    assertEquals(2, nan.worstIndex());
    Tolerance.TensorError inf = t.compare("x", ref, new double[] {2, 0, Double.NaN, Double.NEGATIVE_INFINITY, -1});
    assertFalse(inf.passed());
    assertFalse(Tolerance.EXACT.compare("n", new double[] {3}, new double[] {4}).passed());
    assertTrue(Tolerance.EXACT.compare("n", new double[] {0, 3}, new double[] {0, 3}).passed());
  }

  @Test
  void tolerancesFollowTheStatedTable() {
    assertEquals(new Tolerance(1e-5, 1e-7), Tolerance.of(Tolerance.Kind.ELEMENTWISE, DType.F32));
    assertEquals(new Tolerance(1e-4, 1e-5), Tolerance.of(Tolerance.Kind.CONTRACTION, DType.F32));
    assertEquals(1e-2, Tolerance.of(Tolerance.Kind.REDUCTION, DType.BF16).rtol());
    assertEquals(1e-2, Tolerance.of(Tolerance.Kind.ELEMENTWISE, DType.F16).rtol());
    assertEquals(Tolerance.EXACT, Tolerance.of(Tolerance.Kind.REDUCTION, DType.I64));
    assertEquals(Tolerance.EXACT, Tolerance.of(Tolerance.Kind.EXACT, DType.BF16));
    assertEquals(new Tolerance(2e-2, 1.5e-1, 0), Tolerance.of(Tolerance.Kind.ATTENTION_BACKWARD, DType.BF16));
    assertEquals(new Tolerance(1e-4, 1e-5), Tolerance.of(Tolerance.Kind.ATTENTION_BACKWARD, DType.F32));
    assertEquals(0x1p-24, Tolerance.of(Tolerance.Kind.REDUCTION, DType.F16).atol());
    assertThrows(IllegalArgumentException.class, () -> new Tolerance(-1, 0));
    assertThrows(IllegalArgumentException.class, () -> new Tolerance(1e-2, 0, Double.NaN));
  }

  /** F16 subnormals (below 2^-14) are 2^-24 apart: one step there passes, two do not; BF16 has no such floor. */
  @Test
  void halfPrecisionSubnormalsMayDifferByOneStep() {
    double ref = 13 * 0x1p-24; // 7.75e-7: the softmax gradient of one row over 30522 classes, in F16
    double[] refs = {ref, ref, ref};
    Tolerance f16 = Tolerance.of(Tolerance.Kind.REDUCTION, DType.F16);
    assertTrue(f16.compare("dlogits", refs, new double[] {ref, ref + 0x1p-24, ref - 0x1p-24}).passed());
    Tolerance.TensorError twoSteps = f16.compare("dlogits", refs, new double[] {ref, ref + 0x1p-23, ref});
    assertFalse(twoSteps.passed(), twoSteps.toString());
    assertEquals(1, twoSteps.worstIndex());
    assertFalse(Tolerance.of(Tolerance.Kind.REDUCTION, DType.BF16)
        .compare("dlogits", refs, new double[] {ref, ref + 0x1p-24, ref}).passed());
  }
}
