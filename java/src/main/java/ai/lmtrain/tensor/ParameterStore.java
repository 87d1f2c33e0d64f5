package ai.lmtrain.tensor;

/**
 * The parameters of a model in contiguous buffers laid out by a {@link ParameterTable}:
 * <ul>
 *   <li>master weights, F32 — what the optimizer updates and checkpoints store;</li>
 *   <li>working weights in the compute type — the same buffer as the master for F32, a separate
 *       BF16/F16 copy (refreshed by AdamW in the same pass) for mixed precision;</li>
 *   <li>gradients, F32, accumulated by the backward passes and zeroed per optimizer step.</li>
 * </ul>
 * Views are by checkpoint name and have the checkpoint shape; {@link #paddedParam} and
 * {@link #paddedGrad} also cover an entry's padding rows (see {@link ParameterTable#addPadded}).
 * Alignment gaps between entries and padding rows are kept at zero.
 */
public final class ParameterStore implements AutoCloseable {
  private final Backend backend;
  private final ParameterTable table;
  private final DType computeType;
  private final DeviceBuffer master;
  private final DeviceBuffer work;
  private final DeviceBuffer grads;

  /** Allocates zeroed buffers for {@code table} on {@code backend}; compute type F32, BF16 or F16. */
  public ParameterStore(Backend backend, ParameterTable table, DType computeType) {
    if (!computeType.isFloat()) {
      throw new IllegalArgumentException("compute type must be F32, BF16 or F16 (got " + computeType + ")");
    }
    this.backend = backend;
    this.table = table;
    this.computeType = computeType;
    long n = table.totalElements();
    DeviceBuffer m = backend.allocate(n * 4);
    DeviceBuffer w = null;
    DeviceBuffer g = null;
    try {
      w = computeType == DType.F32 ? m : backend.allocate(n * computeType.bytes());
      g = backend.allocate(n * 4);
    } catch (RuntimeException e) {
      m.close();
      if (w != null && w != m) {
        w.close();
      }
      throw e;
    }
    this.master = m;
    this.work = w;
    this.grads = g;
    backend.zero(masterAll());
    backend.zero(workAll());
    zeroGrads();
  }

  public ParameterTable table() {
    return table;
  }

  public Backend backend() {
    return backend;
  }

  /** The type of the working weights and activations. */
  public DType computeType() {
    return computeType;
  }

  /** Working weights of parameter {@code name}, in the compute type. */
  public Tensor param(String name) {
    ParameterTable.Entry e = table.get(name);
    return work.at(e.offset() * computeType.bytes(), computeType, e.shape());
  }

  /** Working weights of parameter {@code name} with its padding rows (its stored shape). */
  public Tensor paddedParam(String name) {
    ParameterTable.Entry e = table.get(name);
    return work.at(e.offset() * computeType.bytes(), computeType, e.storedShape());
  }

  /** F32 gradient of parameter {@code name} with its padding rows (its stored shape). */
  public Tensor paddedGrad(String name) {
    ParameterTable.Entry e = table.get(name);
    return grads.at(e.offset() * 4, DType.F32, e.storedShape());
  }

  /**
   * Working weights of a contiguous run of parameters starting at {@code first}, viewed with
   * {@code shape} (e.g. packed query|key|value weights as one (3H, H) matrix).
   */
  public Tensor paramSpan(String first, long... shape) {
    ParameterTable.Entry e = table.get(first);
    return work.at(e.offset() * computeType.bytes(), computeType, shape);
  }

  /** F32 gradient of a contiguous run of parameters starting at {@code first} (see {@link #paramSpan}). */
  public Tensor gradSpan(String first, long... shape) {
    ParameterTable.Entry e = table.get(first);
    return grads.at(e.offset() * 4, DType.F32, shape);
  }

  /** F32 master weights of parameter {@code name}. */
  public Tensor master(String name) {
    ParameterTable.Entry e = table.get(name);
    return master.at(e.offset() * 4, DType.F32, e.shape());
  }

  /** F32 gradient of parameter {@code name}. */
  public Tensor grad(String name) {
    ParameterTable.Entry e = table.get(name);
    return grads.at(e.offset() * 4, DType.F32, e.shape());
  }

  /** The whole F32 master buffer. */
  public Tensor masterAll() {
    return master.tensor(DType.F32, table.totalElements());
  }

  /** The whole working-weight buffer. */
  public Tensor workAll() {
    return work.tensor(computeType, table.totalElements());
  }

  /** The whole F32 gradient buffer. */
  public Tensor gradAll() {
    return grads.tensor(DType.F32, table.totalElements());
  }

  /** Sets every gradient to zero. */
  public void zeroGrads() {
    backend.zero(gradAll());
  }

  /** Writes master weights of {@code name} (and refreshes its working copy). */
  public void setMaster(String name, float[] values) {
    backend.upload(master(name), values);
    if (computeType != DType.F32) {
      backend.cast(param(name), master(name));
    }
  }

  /**
   * Writes master weights of {@code name} from element {@code first} of its checkpoint shape on
   * (and refreshes that part of the working copy).
   */
  public void setMaster(String name, long first, float[] values) {
    long n = table.get(name).numel();
    Tensor part = master(name).view(n).slice(first, values.length);
    backend.upload(part, values);
    if (computeType != DType.F32) {
      backend.cast(param(name).view(n).slice(first, values.length), part);
    }
  }

  /** Refreshes every working weight from the master weights (after loading a checkpoint). */
  public void syncWorkFromMaster() {
    if (computeType != DType.F32) {
      backend.cast(workAll(), masterAll());
    }
  }

  @Override
  public void close() {
    grads.close();
    if (work != master) {
      work.close();
    }
    master.close();
  }
}
