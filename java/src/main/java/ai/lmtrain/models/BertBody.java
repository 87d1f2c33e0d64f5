package ai.lmtrain.models;

import ai.lmtrain.layers.BertLayer;
import ai.lmtrain.layers.Dropout;
import ai.lmtrain.layers.LayerNorm;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.GeluKind;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What every BERT head sits on (Hugging Face's {@code BertModel} without its pooler): the
 * embeddings and the encoder layers, parameters under {@code bert.}:
 * <pre>
 *   e = dropout(LN(word[ids] + position[t] + token_type[tt]))
 *   x = encoder layers (post-LN, exact GELU) over e, keys masked by the attention mask
 * </pre>
 * Shapes: ids (B, T) -> x (B*T, H).
 */
final class BertBody {
  static final String EMB = "bert.embeddings.";

  private final BertConfig config;
  private final LayerNorm embeddingNorm;
  private final Dropout embeddingDropout;
  private final List<BertLayer> layers = new ArrayList<>();
  private TransformerModel.Inputs inputs;

  BertBody(BertConfig config) {
    this.config = config;
    int h = config.hiddenSize();
    float eps = (float) config.layerNormEps();
    GeluKind gelu = config.geluKind();
    embeddingNorm = new LayerNorm(EMB + "LayerNorm", h, eps);
    embeddingDropout = new Dropout((float) config.hiddenDropoutProb());
    for (int i = 0; i < config.numHiddenLayers(); i++) {
      layers.add(new BertLayer("bert.encoder.layer." + i, h, config.intermediateSize(), config.numAttentionHeads(), gelu,
          (float) config.hiddenDropoutProb(), (float) config.attentionProbsDropoutProb(), eps));
    }
  }

  /** Appends the body's parameters: Hugging Face names; query/key/value packed so they form one (3H, H) matrix. */
  static void addParameters(ParameterTable t, BertConfig c) {
    int h = c.hiddenSize();
    t.add(EMB + "word_embeddings.weight", true, c.vocabSize(), h);
    t.add(EMB + "position_embeddings.weight", true, c.maxPositionEmbeddings(), h);
    t.add(EMB + "token_type_embeddings.weight", true, c.typeVocabSize(), h);
    addNorm(t, EMB + "LayerNorm", h);
    for (int i = 0; i < c.numHiddenLayers(); i++) {
      String p = "bert.encoder.layer." + i;
      String self = p + ".attention.self.";
      t.add(self + "query.weight", true, h, h);
      t.addPacked(self + "key.weight", true, h, h);
      t.addPacked(self + "value.weight", true, h, h);
      t.add(self + "query.bias", false, h);
      t.addPacked(self + "key.bias", false, h);
      t.addPacked(self + "value.bias", false, h);
      t.add(p + ".attention.output.dense.weight", true, h, h);
      t.add(p + ".attention.output.dense.bias", false, h);
      addNorm(t, p + ".attention.output.LayerNorm", h);
      t.add(p + ".intermediate.dense.weight", true, c.intermediateSize(), h);
      t.add(p + ".intermediate.dense.bias", false, c.intermediateSize());
      t.add(p + ".output.dense.weight", true, h, c.intermediateSize());
      t.add(p + ".output.dense.bias", false, h);
      addNorm(t, p + ".output.LayerNorm", h);
    }
  }

  /** A LayerNorm's weight and bias under {@code prefix}. */
  static void addNorm(ParameterTable t, String prefix, int h) {
    t.add(prefix + ".weight", false, h);
    t.add(prefix + ".bias", false, h);
  }

  /**
   * Hugging Face's BERT initialisation for any table of BERT parameters: LayerNorm weights 1,
   * other weights N(0, initializer_range) with the padding token's embedding row zeroed, biases 0.
   */
  static TransformerModel.Initializer initializer(BertConfig config) {
    double std = config.initializerRange();
    int pad = config.padTokenId() == null ? -1 : config.padTokenId();
    return (e, values, random) -> {
      String name = e.name();
      if (TransformerModel.isNormWeight(name)) {
        Arrays.fill(values, 1f);
      } else if (name.endsWith(".weight")) {
        TransformerModel.normal(values, random, std);
        if (name.equals(EMB + "word_embeddings.weight") && pad >= 0 && pad < config.vocabSize()) {
          Arrays.fill(values, pad * config.hiddenSize(), (pad + 1) * config.hiddenSize(), 0f);
        }
      }
    };
  }

  /** The encoder output x (B*T, H) for the uploaded {@code inputs}. */
  Tensor forward(Pass pass, TransformerModel.Inputs inputs, int batch, int seqLen) {
    this.inputs = inputs;
    Backend backend = pass.backend();
    int h = config.hiddenSize();
    Tensor embedded = pass.activation(batch, seqLen, h);
    var store = pass.params();
    backend.embeddingForward(embedded, inputs.ids(), inputs.typeIds(), store.param(EMB + "word_embeddings.weight"),
        store.param(EMB + "position_embeddings.weight"), store.param(EMB + "token_type_embeddings.weight"), 0);
    Tensor x = embeddingDropout.forward(pass, embeddingNorm.forward(pass, embedded.view((long) batch * seqLen, h)));
    for (BertLayer layer : layers) {
      x = layer.forward(pass, x, batch, seqLen, inputs.keyMask());
    }
    return x;
  }

  /** Given dx (B*T, H) of the encoder output, accumulates the body's parameter gradients. */
  void backward(Pass pass, Tensor dx) {
    for (int i = layers.size() - 1; i >= 0; i--) {
      dx = layers.get(i).backward(pass, dx);
    }
    Tensor dEmbedded = embeddingNorm.backward(pass, embeddingDropout.backward(pass, dx));
    long[] bth = {inputs.ids().dim(0), inputs.ids().dim(1), config.hiddenSize()};
    var store = pass.params();
    pass.backend().embeddingBackward(store.grad(EMB + "word_embeddings.weight"),
        store.grad(EMB + "position_embeddings.weight"), store.grad(EMB + "token_type_embeddings.weight"),
        dEmbedded.view(bth), inputs.ids(), inputs.typeIds(), 0);
  }

  /**
   * The body's share of {@link Model#parameterNameFor}: legacy LayerNorm names modernised, BertModel
   * checkpoints (no "bert." prefix) mapped under "bert.", and null for keys of no BERT model
   * ({@code position_ids} buffers). Head keys ({@code cls.}, {@code classifier.}) pass through.
   */
  static String parameterName(String key) {
    String k = TransformerModel.modernNormNames(key);
    if (k.endsWith("position_ids")) {
      return null;
    }
    if (!k.startsWith("bert.") && !k.startsWith("cls.") && !k.startsWith("classifier.")) {
      k = "bert." + k; // BertModel checkpoints have no "bert." prefix
    }
    return k;
  }
}
