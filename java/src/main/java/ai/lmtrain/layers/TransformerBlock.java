package ai.lmtrain.layers;

import ai.lmtrain.tensor.Tensor;

/**
 * One layer of a transformer stack ({@link BertLayer}, {@link PreLnBlock}): hidden states in,
 * hidden states out, x, y (B*T, C). One forward is followed by at most one backward.
 */
public interface TransformerBlock {

  /** y (B*T, C) from x (B*T, C); {@code keyMask} (B, T) I32 marks real keys with 1, padding with 0 (null: none). */
  Tensor forward(Pass pass, Tensor x, int batch, int seqLen, Tensor keyMask);

  /** dx (B*T, C) from dy; accumulates the layer's parameter gradients. */
  Tensor backward(Pass pass, Tensor dy);
}
