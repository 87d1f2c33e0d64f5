package ai.lmtrain.selftest;

import ai.lmtrain.nativebridge.LmtNative;
import ai.lmtrain.nativebridge.NativeCalls;
import ai.lmtrain.nativebridge.NativeException;
import ai.lmtrain.tensor.Device;
import ai.lmtrain.tensor.GeluKind;
import ai.lmtrain.tensor.NativeBackend;
import ai.lmtrain.tensor.Tensor;

/**
 * A CPU backend whose GELU forward misbehaves in one chosen way after computing the right result:
 * the "backend under test" that the comparison must catch.
 */
final class FaultyCpuBackend extends NativeBackend {
  /** The misbehaviours. */
  enum Fault {
    /** out[n/2] off by 1e-3 relative. */
    PERTURB_ONE_ELEMENT,
    /** One byte written just past the end of out. */
    WRITE_PAST_END,
    /** One byte written just before the start of out. */
    WRITE_BEFORE_START,
    /** The input x doubled. */
    MODIFY_INPUT,
    /** The kernel reports an error. */
    FAIL
  }

  private final Fault fault;

  FaultyCpuBackend(Fault fault) {
    super(Device.CPU);
    this.fault = fault;
  }

  @Override
  public void gelu(Tensor out, Tensor x, GeluKind kind) {
    super.gelu(out, x, kind);
    switch (fault) {
      case PERTURB_ONE_ELEMENT -> {
        float[] values = downloadFloats(out);
        int i = values.length / 2;
        values[i] = values[i] * 1.001f + 1e-3f;
        upload(out, values);
      }
      case WRITE_PAST_END -> NativeCalls.check(LmtNative.lmt_memset(ctx(), out.address() + out.bytes(), 0x11, 1));
      case WRITE_BEFORE_START -> NativeCalls.check(LmtNative.lmt_memset(ctx(), out.address() - 1, 0x11, 1));
      case MODIFY_INPUT -> scale(x, 2f);
      case FAIL -> throw new NativeException(5, "lmt_gelu_forward: simulated kernel failure");
    }
  }
}
