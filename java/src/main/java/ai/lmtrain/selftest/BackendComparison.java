package ai.lmtrain.selftest;

import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.DeviceBuffer;
import ai.lmtrain.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Runs {@link OpCase}s on a reference backend and a backend under test and compares them. This is
 * the one place the comparison is written; a case only says how to run its op.
 *
 * <p>For each case: every tensor's initial bytes are drawn once (seeded by the case and tensor
 * name, so runs are reproducible) and uploaded to both backends. Each tensor sits in its own
 * allocation with {@value #GUARD_BYTES} guard bytes before and after it (keeping the tensor
 * 256-byte aligned), filled with a sentinel pattern. After the op, on each backend: the guards must
 * be unchanged (no write outside an output), inputs must be unchanged, and the outputs are
 * downloaded; then each output of the backend under test is compared with the reference's under
 * {@link Tolerance#of(Tolerance.Kind, DType)} for its storage type.
 */
public final class BackendComparison {
  /** Guard bytes on each side of every case tensor. */
  public static final int GUARD_BYTES = 256;

  private static final byte[] SENTINEL = sentinel();

  private final Backend reference;
  private final Backend underTest;

  /** Compares {@code underTest} with {@code reference} (usually the CPU backend). */
  public BackendComparison(Backend reference, Backend underTest) {
    this.reference = reference;
    this.underTest = underTest;
  }

  /** Runs every case, in order. */
  public List<CaseResult> runAll(List<OpCase> cases) {
    List<CaseResult> rows = new ArrayList<>();
    for (OpCase c : cases) {
      rows.add(run(c));
    }
    return rows;
  }

  /** Runs one case on both backends and compares; never throws for a failing op (the row says why). */
  public CaseResult run(OpCase c) {
    List<byte[]> initial = new ArrayList<>();
    for (TensorSpec t : c.tensors()) {
      SplittableRandom random = new SplittableRandom(((long) c.id().hashCode() << 32) ^ t.name().hashCode());
      byte[] bytes = t.fill().bytes(t.dtype(), t.numel(), random);
      if (bytes.length != t.bytes()) {
        throw new IllegalStateException(c.id() + ": fill of " + t + " gave " + bytes.length + " bytes");
      }
      initial.add(bytes);
    }
    Outcome ref = runOn(reference, c, initial);
    if (ref.problem != null) {
      return failed(c, "reference " + reference.device() + ": " + ref.problem);
    }
    Outcome test = runOn(underTest, c, initial);
    if (test.problem != null) {
      return failed(c, underTest.device() + ": " + test.problem);
    }
    Tolerance.TensorError worst = null;
    for (TensorSpec t : c.tensors()) {
      if (!t.output()) {
        continue;
      }
      double[] r = HostData.decode(t.dtype(), ref.outputs.get(t.name()));
      double[] u = HostData.decode(t.dtype(), test.outputs.get(t.name()));
      Tolerance.TensorError e = Tolerance.of(c.kind(), t.dtype()).compare(t.name(), r, u);
      if (worst == null || e.severity() > worst.severity()) {
        worst = e;
      }
    }
    String problem = worst.passed() ? null
        : String.format("%s[%d] is %s but the reference has %s", worst.tensor(), worst.worstIndex(), worst.test(),
            worst.reference());
    return new CaseResult(c.op(), c.dtype(), c.name(), worst.tensor(), worst.maxAbs(), worst.maxRel(),
        worst.tolerance().rtol(), worst.passed(), problem);
  }

  /** The downloaded outputs of one backend, or why there are none. */
  private record Outcome(Map<String, byte[]> outputs, String problem) {}

  private static Outcome runOn(Backend backend, OpCase c, List<byte[]> initial) {
    List<DeviceBuffer> buffers = new ArrayList<>();
    Outcome outcome;
    try {
      outcome = runAndCheck(backend, c, initial, buffers);
    } catch (RuntimeException e) {
      outcome = new Outcome(null, describe(e));
    }
    for (DeviceBuffer b : buffers) {
      try {
        b.close();
      } catch (RuntimeException e) {
        if (outcome.problem == null) {
          outcome = new Outcome(null, "freeing a case tensor: " + describe(e));
        }
      }
    }
    return outcome;
  }

  /** Allocates (into {@code buffers}, which the caller frees), uploads, runs and checks one backend. */
  private static Outcome runAndCheck(Backend backend, OpCase c, List<byte[]> initial, List<DeviceBuffer> buffers) {
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (int i = 0; i < c.tensors().size(); i++) {
      TensorSpec spec = c.tensors().get(i);
      DeviceBuffer buffer = backend.allocate(GUARD_BYTES + spec.bytes() + GUARD_BYTES);
      buffers.add(buffer);
      backend.uploadBytes(guardBefore(buffer), SENTINEL);
      backend.uploadBytes(guardAfter(buffer, spec), SENTINEL);
      Tensor t = buffer.at(GUARD_BYTES, spec.dtype(), spec.shape());
      backend.uploadBytes(t, initial.get(i));
      tensors.put(spec.name(), t);
    }
    c.body().run(backend, new CaseTensors(tensors));
    backend.synchronize();
    Map<String, byte[]> outputs = new LinkedHashMap<>();
    for (int i = 0; i < c.tensors().size(); i++) {
      TensorSpec spec = c.tensors().get(i);
      DeviceBuffer buffer = buffers.get(i);
      if (!Arrays.equals(backend.downloadBytes(guardBefore(buffer)), SENTINEL)) {
        return new Outcome(null, "the guard before '" + spec.name() + "' was overwritten (write out of bounds)");
      }
      if (!Arrays.equals(backend.downloadBytes(guardAfter(buffer, spec)), SENTINEL)) {
        return new Outcome(null, "the guard after '" + spec.name() + "' was overwritten (write out of bounds)");
      }
      byte[] contents = backend.downloadBytes(tensors.get(spec.name()));
      if (spec.output()) {
        outputs.put(spec.name(), contents);
      } else if (!Arrays.equals(contents, initial.get(i))) {
        return new Outcome(null, "input '" + spec.name() + "' was modified");
      }
    }
    return new Outcome(outputs, null);
  }

  private static String describe(RuntimeException e) {
    return e.getClass().getSimpleName() + ": " + e.getMessage();
  }

  private static Tensor guardBefore(DeviceBuffer buffer) {
    return buffer.at(0, DType.U8, GUARD_BYTES);
  }

  private static Tensor guardAfter(DeviceBuffer buffer, TensorSpec spec) {
    return buffer.at(GUARD_BYTES + spec.bytes(), DType.U8, GUARD_BYTES);
  }

  private static CaseResult failed(OpCase c, String problem) {
    return new CaseResult(c.op(), c.dtype(), c.name(), "", Double.NaN, Double.NaN, Double.NaN, false, problem);
  }

  /** A position-dependent byte pattern, so a shifted or partial copy is caught too. */
  private static byte[] sentinel() {
    byte[] s = new byte[GUARD_BYTES];
    for (int i = 0; i < s.length; i++) {
      s[i] = (byte) (0xA5 ^ (i * 37));
    }
    return s;
  }
}
