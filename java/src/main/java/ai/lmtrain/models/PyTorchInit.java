package ai.lmtrain.models;

import ai.lmtrain.tensor.ParameterTable;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.function.Predicate;

/**
 * {@link InitScheme#PYTORCH}: each parameter as the plain PyTorch module it stands for initialises
 * it in its constructor, told apart by its Hugging Face name:
 * <pre>
 *   nn.LayerNorm   (*LayerNorm.*, *layer_norm.*, ln_1/ln_2/ln_f)   weight 1, bias 0
 *   nn.Embedding   (*_embeddings.weight, wte, wpe)                  N(0, 1); the padding_idx row 0
 *   nn.Linear      (any other X.weight)                             U(-b, b), b = 1/sqrt(fan_in)
 *                  (its X.bias)                                     U(-b, b), the same b
 *   nn.Parameter   (a bias without a weight: the masked-LM output bias)   0 (created as zeros)
 * </pre>
 * fan_in is the input width: the second dimension of an (out, in) nn.Linear weight, the first of
 * GPT-2's (in, out) Conv1D weights. {@code kaiming_uniform_(a=sqrt(5))} gives exactly
 * b = gain * sqrt(3 / fan_in) with gain = sqrt(2 / (1 + 5)), i.e. 1/sqrt(fan_in).
 */
final class PyTorchInit implements TransformerModel.Initializer {
  private final ParameterTable table;
  private final Predicate<String> inOutLayout;
  private final Map<String, Integer> paddingRows;

  /**
   * @param table the model's parameters (a bias's bound comes from its weight's fan_in)
   * @param inOutLayout true for the weights stored (in, out) (GPT-2's Conv1D)
   * @param paddingRows embedding name -> the padding_idx row that starts at 0
   */
  PyTorchInit(ParameterTable table, Predicate<String> inOutLayout, Map<String, Integer> paddingRows) {
    this.table = table;
    this.inOutLayout = inOutLayout;
    this.paddingRows = paddingRows;
  }

  @Override
  public void fill(ParameterTable.Entry e, long firstRow, float[] values, Random random) {
    String name = e.name();
    if (TransformerModel.isNormWeight(name)) {
      Arrays.fill(values, 1f);
    } else if (TransformerModel.isNormBias(name)) {
      Arrays.fill(values, 0f);
    } else if (isEmbedding(name)) {
      TransformerModel.normal(values, random, 1.0);
      TransformerModel.zeroPaddingRow(e, firstRow, values, paddingRows);
    } else if (name.endsWith(".weight")) {
      uniform(values, random, bound(e));
    } else {
      String weight = name.substring(0, name.length() - ".bias".length()) + ".weight";
      if (table.contains(weight)) {
        uniform(values, random, bound(table.get(weight)));
      } else {
        Arrays.fill(values, 0f);
      }
    }
  }

  /** 1/sqrt(fan_in) of a linear layer's weight. */
  private double bound(ParameterTable.Entry weight) {
    long fanIn = inOutLayout.test(weight.name()) ? weight.shape()[0] : weight.shape()[1];
    return 1.0 / Math.sqrt(fanIn);
  }

  private static boolean isEmbedding(String name) {
    return name.endsWith("_embeddings.weight") || name.endsWith(".wte.weight") || name.endsWith(".wpe.weight");
  }

  /** values ~ U(-bound, bound), as torch's uniform_(-bound, bound): -bound + 2 bound u. */
  private static void uniform(float[] values, Random random, double bound) {
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (-bound + 2 * bound * random.nextDouble());
    }
  }
}
