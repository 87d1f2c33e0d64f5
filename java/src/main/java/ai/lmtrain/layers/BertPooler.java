package ai.lmtrain.layers;

import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.Tensor;

/**
 * BERT's pooler, parameters {@code bert.pooler.dense.{weight, bias}}: the hidden state of each
 * sequence's first token ([CLS]) through a dense layer and tanh, the sequence summary that the
 * classification (and next-sentence) heads read:
 * <pre>
 *   pooled (B, H) = tanh(dense(x[b * T]))        x (B*T, H)
 * </pre>
 */
public final class BertPooler {
  private final Linear dense;
  private Tensor rows;
  private Tensor first;
  private Tensor pooled;
  private long positions;

  /**
   * @param prefix e.g. "bert.pooler"
   */
  public BertPooler(String prefix, int hidden) {
    dense = new Linear(prefix + ".dense.weight", prefix + ".dense.bias", hidden, hidden, Linear.Layout.OUT_IN);
  }

  /** pooled (B, H) from the encoder output x (B*T, H). */
  public Tensor forward(Pass pass, Tensor x, int batch, int seqLen) {
    positions = x.rows();
    int[] firstRows = new int[batch];
    for (int b = 0; b < batch; b++) {
      firstRows[b] = b * seqLen;
    }
    rows = pass.scratch(DType.I32, batch);
    pass.backend().upload(rows, firstRows);
    first = pass.activation(batch, x.dim(-1));
    pass.backend().gatherRows(first, x, rows);
    Tensor projected = dense.forward(pass, first);
    pooled = pass.activation(projected.shape());
    pass.backend().tanh(pooled, projected);
    return pooled;
  }

  /** dx (B*T, H), zero outside the [CLS] rows; accumulates the dense layer's gradients. */
  public Tensor backward(Pass pass, Tensor dpooled) {
    Tensor dprojected = pass.activation(dpooled.shape());
    pass.backend().tanhBackward(dprojected, pooled, dpooled);
    Tensor dfirst = dense.backward(pass, dprojected, first, true);
    Tensor dx = pass.activation(positions, dfirst.dim(-1));
    pass.backend().gatherRowsBackward(dx, dfirst, rows);
    return dx;
  }
}
