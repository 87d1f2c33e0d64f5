package ai.lmtrain.models;

import ai.lmtrain.layers.Dropout;
import ai.lmtrain.layers.LayerNorm;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.layers.PreLnBlock;
import ai.lmtrain.tensor.GeluKind;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What every GPT-2 head sits on (Hugging Face's {@code GPT2Model}): token and position embeddings,
 * the decoder blocks and the final LayerNorm, parameters under {@code transformer.}:
 * <pre>
 *   x = dropout(wte[ids] + wpe[t])
 *   x = blocks (pre-LN, causal attention, gelu_new) over x
 *   h = ln_f(x)
 * </pre>
 * Shapes: ids (B, T) -> h (B*T, E).
 */
final class Gpt2Body {
  static final String WTE = "transformer.wte.weight";
  static final String WPE = "transformer.wpe.weight";

  private final Gpt2Config config;
  private final Dropout embeddingDropout;
  private final List<PreLnBlock> blocks;
  private final LayerNorm finalNorm;
  private TransformerModel.Inputs inputs;

  Gpt2Body(Gpt2Config config) {
    this.config = config;
    int e = config.nEmbd();
    float eps = (float) config.layerNormEpsilon();
    GeluKind gelu = config.geluKind();
    embeddingDropout = new Dropout((float) config.embdPdrop());
    PreLnBlock[] all = new PreLnBlock[config.nLayer()];
    for (int i = 0; i < all.length; i++) {
      all[i] = PreLnBlock.gpt2("transformer.h." + i, e, config.innerSize(), config.nHead(), gelu,
          (float) config.residPdrop(), (float) config.attnPdrop(), eps);
    }
    blocks = List.of(all);
    finalNorm = new LayerNorm("transformer.ln_f", e, eps);
  }

  /** Appends the body's parameters, Hugging Face names; wte stored with {@code paddedVocabSize(V)} rows. */
  static void addParameters(ParameterTable t, Gpt2Config c) {
    int e = c.nEmbd();
    t.addPadded(WTE, true, TransformerModel.paddedVocabSize(c.vocabSize()), c.vocabSize(), e);
    t.add(WPE, true, c.nPositions(), e);
    for (int i = 0; i < c.nLayer(); i++) {
      String p = "transformer.h." + i;
      t.add(p + ".ln_1.weight", false, e);
      t.add(p + ".ln_1.bias", false, e);
      t.add(p + ".attn.c_attn.weight", true, e, 3L * e);
      t.add(p + ".attn.c_attn.bias", false, 3L * e);
      t.add(p + ".attn.c_proj.weight", true, e, e);
      t.add(p + ".attn.c_proj.bias", false, e);
      t.add(p + ".ln_2.weight", false, e);
      t.add(p + ".ln_2.bias", false, e);
      t.add(p + ".mlp.c_fc.weight", true, e, c.innerSize());
      t.add(p + ".mlp.c_fc.bias", false, c.innerSize());
      t.add(p + ".mlp.c_proj.weight", true, c.innerSize(), e);
      t.add(p + ".mlp.c_proj.bias", false, e);
    }
    t.add("transformer.ln_f.weight", false, e);
    t.add("transformer.ln_f.bias", false, e);
  }

  /**
   * The config's initialisation for any table of GPT-2 parameters ({@link InitScheme}). Hugging
   * Face's: LayerNorm weights 1, c_proj weights N(0, initializer_range / sqrt(2 n_layer)), other
   * weights N(0, initializer_range), biases 0; PyTorch's module defaults otherwise, the blocks'
   * Conv1D weights (in, out) taking their fan_in from the first dimension.
   */
  static TransformerModel.Initializer initializer(Gpt2Config config, ParameterTable table) {
    if (config.initScheme() == InitScheme.PYTORCH) {
      return new PyTorchInit(table, name -> name.startsWith("transformer.h."), Map.of());
    }
    double std = config.initializerRange();
    double projStd = std / Math.sqrt(2.0 * config.nLayer());
    return (e, firstRow, values, random) -> {
      String name = e.name();
      if (TransformerModel.isNormWeight(name)) {
        Arrays.fill(values, 1f);
      } else if (name.endsWith(".weight")) {
        TransformerModel.normal(values, random, name.endsWith("c_proj.weight") ? projStd : std);
      }
    };
  }

  /** The final hidden states h (B*T, E) for the uploaded {@code inputs}. */
  Tensor forward(Pass pass, TransformerModel.Inputs inputs, int batch, int seqLen) {
    this.inputs = inputs;
    int e = config.nEmbd();
    Tensor embedded = pass.activation(batch, seqLen, e);
    pass.backend().embeddingForward(embedded, inputs.ids(), null, pass.params().param(WTE), pass.params().param(WPE),
        null, 0);
    Tensor x = embeddingDropout.forward(pass, embedded.view((long) batch * seqLen, e));
    for (PreLnBlock block : blocks) {
      x = block.forward(pass, x, batch, seqLen, inputs.keyMask());
    }
    return finalNorm.forward(pass, x);
  }

  /** Given dh (B*T, E) of the final hidden states, accumulates the body's parameter gradients. */
  void backward(Pass pass, Tensor dh) {
    Tensor dx = TransformerModel.backwardLayers(pass, finalNorm.backward(pass, dh), blocks.size(),
        (i, dy) -> blocks.get(i).backward(pass, dy));
    dx = embeddingDropout.backward(pass, dx);
    long[] bte = {inputs.ids().dim(0), inputs.ids().dim(1), config.nEmbd()};
    pass.backend().embeddingBackward(pass.params().grad(WTE), pass.params().grad(WPE), null, dx.view(bte), inputs.ids(),
        null, 0);
  }

  /** Blocks, for incremental decoding. */
  List<PreLnBlock> blocks() {
    return blocks;
  }

  /** The final LayerNorm, for incremental decoding. */
  LayerNorm finalNorm() {
    return finalNorm;
  }

  /**
   * The body's share of {@link Model#parameterNameFor}: legacy LayerNorm names modernised, null for
   * the causal-mask buffers ({@code attn.bias}, {@code attn.masked_bias}), GPT2Model checkpoints (no
   * "transformer." prefix) mapped under "transformer.". Head keys ({@code lm_head.}, {@code score.})
   * pass through.
   */
  static String parameterName(String key) {
    String k = TransformerModel.modernNormNames(key);
    if (k.endsWith(".attn.bias") || k.endsWith(".attn.masked_bias")) {
      return null;
    }
    if (!k.startsWith("transformer.") && !k.startsWith("lm_head.") && !k.startsWith("score.")) {
      k = "transformer." + k; // GPT2Model checkpoints have no "transformer." prefix
    }
    return k;
  }
}
