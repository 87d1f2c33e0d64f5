package ai.lmtrain.selftest;

import ai.lmtrain.tensor.Tensor;
import java.util.Map;

/** The tensors of one case on one backend, by the names of their {@link TensorSpec}s. */
public final class CaseTensors {
  private final Map<String, Tensor> byName;

  CaseTensors(Map<String, Tensor> byName) {
    this.byName = Map.copyOf(byName);
  }

  /** The tensor named {@code name}; an unknown name is a bug in the case. */
  public Tensor get(String name) {
    Tensor t = byName.get(name);
    if (t == null) {
      throw new IllegalArgumentException("case has no tensor '" + name + "' (it has " + byName.keySet() + ")");
    }
    return t;
  }
}
