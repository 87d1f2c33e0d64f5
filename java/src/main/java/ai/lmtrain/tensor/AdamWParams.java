package ai.lmtrain.tensor;

/**
 * The hyper-parameters of one AdamW step.
 *
 * @param lr learning rate of this step
 * @param beta1 first-moment decay (HF default 0.9)
 * @param beta2 second-moment decay (HF default 0.999)
 * @param eps denominator epsilon (HF default 1e-8)
 * @param weightDecay decoupled weight decay for elements whose decay mask is 1
 * @param step 1-based step number, for bias correction
 * @param gradScale factor applied to the gradients first (clipping, loss-scale undo)
 */
public record AdamWParams(float lr, float beta1, float beta2, float eps, float weightDecay, long step, float gradScale) {}
