package ai.lmtrain.train;

import ai.lmtrain.models.ModelInput;

/**
 * Training or evaluation batches addressed by (epoch, index): a batch is a pure function of its
 * address (shuffle order seeded by the epoch, masking seeded by epoch and index), so a run can
 * stop anywhere and resume with exactly the batches it would have seen.
 */
public interface BatchSource {

  /** Number of batches in one epoch. */
  int batchesPerEpoch();

  /** Batch {@code index} of epoch {@code epoch}. */
  ModelInput batch(int epoch, int index);
}
