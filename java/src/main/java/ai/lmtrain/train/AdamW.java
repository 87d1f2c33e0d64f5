package ai.lmtrain.train;

import ai.lmtrain.tensor.AdamWParams;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.DeviceBuffer;
import ai.lmtrain.tensor.ParameterStore;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * AdamW (decoupled weight decay, bias correction; torch.optim.AdamW semantics) over a model's
 * contiguous parameter buffer. Parameter groups (by default biases and LayerNorm weights take no
 * decay) are the buffer's decay runs: maximal ranges of consecutive entries that all take decay or
 * all do not, each updated by one fused native step with its weight decay (0 for the others). A
 * GPT-2 has about eight runs per layer; a per-element mask would cost one byte per parameter (118
 * MiB for GPT-2 124M) for the same result, element for element.
 */
public final class AdamW implements AutoCloseable {
  private final ParameterStore params;
  private final DeviceBuffer moments;
  private final Tensor m;
  private final Tensor v;
  private final List<DecayRun> runs;
  private final float beta1;
  private final float beta2;
  private final float eps;
  private final float weightDecay;
  private long step;

  /**
   * Elements [offset, offset + length) of the parameter buffer, which all take weight decay or all
   * do not.
   */
  record DecayRun(long offset, long length, boolean decay) {}

  /**
   * @param decays which parameters take weight decay (e.g. {@code ParameterTable.Entry::decay})
   */
  public AdamW(ParameterStore params, float beta1, float beta2, float eps, float weightDecay,
      Predicate<ParameterTable.Entry> decays) {
    this.params = params;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
    Backend backend = params.backend();
    long n = params.table().totalElements();
    moments = backend.allocate(2 * n * 4);
    m = moments.at(0, DType.F32, n);
    v = moments.at(n * 4, DType.F32, n);
    backend.zero(m);
    backend.zero(v);
    runs = decayRuns(params.table(), decays);
  }

  /**
   * The runs covering the whole buffer in order: each entry's elements (padding rows included: they
   * stay zero anyway) join the run of the entry before it when both take decay or both do not; the
   * alignment gap before an entry joins the previous run (its parameters, gradients and moments are
   * zero, which an update of either kind keeps zero).
   */
  static List<DecayRun> decayRuns(ParameterTable table, Predicate<ParameterTable.Entry> decays) {
    List<DecayRun> runs = new ArrayList<>();
    long start = 0;
    Boolean decay = null;
    for (ParameterTable.Entry e : table.entries()) {
      boolean d = decays.test(e);
      if (decay != null && d != decay) {
        runs.add(new DecayRun(start, e.offset() - start, decay));
        start = e.offset();
      }
      decay = d;
    }
    long n = table.totalElements();
    if (decay != null && n > start) {
      runs.add(new DecayRun(start, n - start, decay));
    }
    return List.copyOf(runs);
  }

  /** Applies one update with learning rate {@code lr}, gradients scaled by {@code gradScale} first. */
  public void step(float lr, float gradScale) {
    step++;
    Backend backend = params.backend();
    Tensor master = params.masterAll();
    Tensor work = params.computeType() == DType.F32 ? null : params.workAll();
    Tensor grads = params.gradAll();
    for (DecayRun r : runs) {
      backend.adamwStep(master.slice(r.offset(), r.length()),
          work == null ? null : work.slice(r.offset(), r.length()), m.slice(r.offset(), r.length()),
          v.slice(r.offset(), r.length()), grads.slice(r.offset(), r.length()), null,
          new AdamWParams(lr, beta1, beta2, eps, r.decay() ? weightDecay : 0f, step, gradScale));
    }
  }

  /** Number of updates applied so far. */
  public long steps() {
    return step;
  }

  /** First moments (F32, the parameter buffer's layout). */
  public Tensor firstMoments() {
    return m;
  }

  /** Second moments (F32, the parameter buffer's layout). */
  public Tensor secondMoments() {
    return v;
  }

  /** Restores the step count (with the moments uploaded separately) when resuming. */
  public void restoreSteps(long steps) {
    this.step = steps;
  }

  @Override
  public void close() {
    moments.close();
  }
}
