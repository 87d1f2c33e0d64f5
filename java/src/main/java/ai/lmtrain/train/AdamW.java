package ai.lmtrain.train;

import ai.lmtrain.tensor.AdamWParams;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.DeviceBuffer;
import ai.lmtrain.tensor.ParameterStore;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tensor.Tensor;
import java.util.Arrays;
import java.util.function.Predicate;

/**
 * AdamW (decoupled weight decay, bias correction; torch.optim.AdamW semantics) over a model's
 * contiguous parameter buffer in one fused native step. Parameter groups are expressed as a
 * per-element decay mask: by default biases and LayerNorm weights take no decay.
 */
public final class AdamW implements AutoCloseable {
  private static final long MASK_BLOCK = 1 << 20;

  private final ParameterStore params;
  private final DeviceBuffer moments;
  private final Tensor m;
  private final Tensor v;
  private final DeviceBuffer maskBuffer;
  private final Tensor decayMask;
  private final float beta1;
  private final float beta2;
  private final float eps;
  private final float weightDecay;
  private long step;

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
    maskBuffer = backend.allocate(n);
    decayMask = maskBuffer.tensor(DType.U8, n);
    fillDecayMask(backend, decayMask, params.table(), decays);
  }

  /**
   * mask (n) U8 = 1 over the entries {@code decays} accepts (padding rows included: they stay zero
   * anyway), 0 elsewhere and in the alignment gaps; uploaded a block at a time, so no host array of
   * the whole buffer exists.
   */
  private static void fillDecayMask(Backend backend, Tensor mask, ParameterTable table,
      Predicate<ParameterTable.Entry> decays) {
    backend.zero(mask);
    byte[] ones = new byte[(int) Math.min(MASK_BLOCK, mask.numel())];
    Arrays.fill(ones, (byte) 1);
    for (ParameterTable.Entry e : table.entries()) {
      if (!decays.test(e)) {
        continue;
      }
      for (long first = 0; first < e.storedNumel(); first += ones.length) {
        int count = (int) Math.min(ones.length, e.storedNumel() - first);
        backend.upload(mask.slice(e.offset() + first, count), count == ones.length ? ones : Arrays.copyOf(ones, count));
      }
    }
  }

  /** Applies one update with learning rate {@code lr}, gradients scaled by {@code gradScale} first. */
  public void step(float lr, float gradScale) {
    step++;
    Tensor work = params.computeType() == DType.F32 ? null : params.workAll();
    params.backend().adamwStep(params.masterAll(), work, m, v, params.gradAll(), decayMask,
        new AdamWParams(lr, beta1, beta2, eps, weightDecay, step, gradScale));
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
    maskBuffer.close();
    moments.close();
  }
}
