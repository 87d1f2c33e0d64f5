package ai.lmtrain.train;

import ai.lmtrain.tensor.Tensor;

/**
 * The loss of one batch, still on the device: {@code lossSum * meanScale} is the batch loss.
 *
 * @param lossSum F32 scalar the loss kernel summed into; null when nothing was scored
 * @param meanScale the factor that turns the sum into the batch's mean loss
 * @param scored positions (language models) or examples (classifiers) that took a loss
 */
public record BatchLoss(Tensor lossSum, float meanScale, int scored) {}
