package ai.lmtrain.models;

import ai.lmtrain.layers.BertLayer;
import ai.lmtrain.layers.Dropout;
import ai.lmtrain.layers.LayerNorm;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.layers.PreLnBlock;
import ai.lmtrain.layers.TransformerBlock;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.GeluKind;
import ai.lmtrain.tensor.ParameterStore;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What every BERT head sits on (Hugging Face's {@code BertModel}, or {@code RobertaPreLayerNormModel}
 * for model_type "roberta-prelayernorm", without its pooler): the embeddings and the encoder layers,
 * parameters under {@code bert.} / {@code roberta_prelayernorm.} ({@link BertNames}):
 * <pre>
 *   e = dropout(LN(word[ids] + token_type[tt] + position[p]))
 *   bert:    x = encoder layers (post-LN, {@link BertLayer}) over e, keys masked by the attention mask
 *   pre-LN:  x = LN_final(encoder layers (pre-LN, {@link PreLnBlock}) over e)
 * </pre>
 * Position ids p: BERT's are 0..T-1; RoBERTa's count the non-padding tokens from pad_token_id + 1
 * and give padding tokens pad_token_id (transformers' create_position_ids_from_input_ids).
 * Shapes: ids (B, T) -> x (B*T, H).
 */
final class BertBody {
  private final BertConfig config;
  private final BertNames names;
  private final LayerNorm embeddingNorm;
  private final Dropout embeddingDropout;
  private final List<TransformerBlock> layers = new ArrayList<>();
  private final LayerNorm finalNorm;
  private TransformerModel.Inputs inputs;
  private Tensor positionIds;

  BertBody(BertConfig config) {
    this.config = config;
    this.names = BertNames.of(config);
    int h = config.hiddenSize();
    float eps = (float) config.layerNormEps();
    GeluKind gelu = config.geluKind();
    float hiddenDropout = (float) config.hiddenDropoutProb();
    float probsDropout = (float) config.attentionProbsDropoutProb();
    embeddingNorm = new LayerNorm(names.embeddings() + "LayerNorm", h, eps);
    embeddingDropout = new Dropout(hiddenDropout);
    for (int i = 0; i < config.numHiddenLayers(); i++) {
      layers.add(config.preLayerNorm()
          ? PreLnBlock.robertaPreLayerNorm(names.layer(i), h, config.intermediateSize(), config.numAttentionHeads(),
              gelu, hiddenDropout, probsDropout, eps)
          : new BertLayer(names.layer(i), h, config.intermediateSize(), config.numAttentionHeads(), gelu,
              hiddenDropout, probsDropout, eps));
    }
    finalNorm = config.preLayerNorm() ? new LayerNorm(names.finalNorm(), h, eps) : null;
  }

  /**
   * Appends the body's parameters: Hugging Face names; query/key/value packed so they form one (3H,
   * H) matrix; the word embeddings stored with {@code paddedVocabSize(V)} rows.
   */
  static void addParameters(ParameterTable t, BertConfig c) {
    BertNames names = BertNames.of(c);
    int h = c.hiddenSize();
    int inner = c.intermediateSize();
    t.addPadded(names.wordEmbeddings(), true, TransformerModel.paddedVocabSize(c.vocabSize()), c.vocabSize(), h);
    t.add(names.positionEmbeddings(), true, c.maxPositionEmbeddings(), h);
    t.add(names.tokenTypeEmbeddings(), true, c.typeVocabSize(), h);
    addNorm(t, names.embeddings() + "LayerNorm", h);
    for (int i = 0; i < c.numHiddenLayers(); i++) {
      String p = names.layer(i);
      if (c.preLayerNorm()) {
        addNorm(t, p + ".attention.LayerNorm", h);
      }
      String self = p + ".attention.self.";
      t.add(self + "query.weight", true, h, h);
      t.addPacked(self + "key.weight", true, h, h);
      t.addPacked(self + "value.weight", true, h, h);
      t.add(self + "query.bias", false, h);
      t.addPacked(self + "key.bias", false, h);
      t.addPacked(self + "value.bias", false, h);
      t.add(p + ".attention.output.dense.weight", true, h, h);
      t.add(p + ".attention.output.dense.bias", false, h);
      if (c.preLayerNorm()) {
        addNorm(t, p + ".intermediate.LayerNorm", h);
      } else {
        addNorm(t, p + ".attention.output.LayerNorm", h);
      }
      t.add(p + ".intermediate.dense.weight", true, inner, h);
      t.add(p + ".intermediate.dense.bias", false, inner);
      t.add(p + ".output.dense.weight", true, h, inner);
      t.add(p + ".output.dense.bias", false, h);
      if (!c.preLayerNorm()) {
        addNorm(t, p + ".output.LayerNorm", h);
      }
    }
    if (c.preLayerNorm()) {
      addNorm(t, names.finalNorm(), h);
    }
  }

  /** A LayerNorm's weight and bias under {@code prefix}. */
  static void addNorm(ParameterTable t, String prefix, int h) {
    t.add(prefix + ".weight", false, h);
    t.add(prefix + ".bias", false, h);
  }

  /**
   * The config's initialisation for any table of BERT parameters ({@link InitScheme}). Hugging
   * Face's: LayerNorm weights 1, other weights N(0, initializer_range), biases 0; PyTorch's module
   * defaults otherwise. Either way the embedding rows of padding_idx are 0, as transformers builds
   * those nn.Embedding modules with one: the word embeddings' pad_token_id row, and for pre-LN the
   * position embeddings' too.
   */
  static TransformerModel.Initializer initializer(BertConfig config, ParameterTable table) {
    BertNames names = BertNames.of(config);
    Map<String, Integer> paddingRows = new HashMap<>();
    if (config.padTokenId() != null) {
      paddingRows.put(names.wordEmbeddings(), config.padTokenId());
      if (config.preLayerNorm()) {
        paddingRows.put(names.positionEmbeddings(), config.padTokenId());
      }
    }
    if (config.initScheme() == InitScheme.PYTORCH) {
      return new PyTorchInit(table, name -> false, paddingRows);
    }
    double std = config.initializerRange();
    return (e, firstRow, values, random) -> {
      String name = e.name();
      if (TransformerModel.isNormWeight(name)) {
        Arrays.fill(values, 1f);
      } else if (name.endsWith(".weight")) {
        TransformerModel.normal(values, random, std);
        TransformerModel.zeroPaddingRow(e, firstRow, values, paddingRows);
      }
    };
  }

  /** The encoder output x (B*T, H) for {@code in}, whose tensors {@code inputs} holds on the device. */
  Tensor forward(Pass pass, TransformerModel.Inputs inputs, ModelInput in) {
    this.inputs = inputs;
    Backend backend = pass.backend();
    int batch = in.batch();
    int seqLen = in.seqLen();
    int h = config.hiddenSize();
    ParameterStore store = pass.params();
    Tensor embedded = pass.activation(batch, seqLen, h);
    if (config.preLayerNorm()) {
      // word + token type, then the positions of RoBERTa's ids gathered like tokens from the position table
      backend.embeddingForward(embedded, inputs.ids(), inputs.typeIds(), store.param(names.wordEmbeddings()), null,
          store.param(names.tokenTypeEmbeddings()), 0);
      positionIds = pass.scratch(DType.I32, batch, seqLen);
      backend.upload(positionIds, robertaPositionIds(in, config.padTokenId()));
      Tensor positions = pass.activation(batch, seqLen, h);
      backend.embeddingForward(positions, positionIds, null, store.param(names.positionEmbeddings()), null, null, 0);
      backend.add(embedded, embedded, positions);
    } else {
      backend.embeddingForward(embedded, inputs.ids(), inputs.typeIds(), store.param(names.wordEmbeddings()),
          store.param(names.positionEmbeddings()), store.param(names.tokenTypeEmbeddings()), 0);
    }
    Tensor x = embeddingDropout.forward(pass, embeddingNorm.forward(pass, embedded.view((long) batch * seqLen, h)));
    for (TransformerBlock layer : layers) {
      x = layer.forward(pass, x, batch, seqLen, inputs.keyMask());
    }
    return finalNorm == null ? x : finalNorm.forward(pass, x);
  }

  /** Given dx (B*T, H) of the encoder output, accumulates the body's parameter gradients. */
  void backward(Pass pass, Tensor dx) {
    if (finalNorm != null) {
      dx = finalNorm.backward(pass, dx);
    }
    dx = TransformerModel.backwardLayers(pass, dx, layers.size(), (i, dy) -> layers.get(i).backward(pass, dy));
    Tensor dEmbedded = embeddingNorm.backward(pass, embeddingDropout.backward(pass, dx));
    Tensor dOut = dEmbedded.view(inputs.ids().dim(0), inputs.ids().dim(1), config.hiddenSize());
    ParameterStore store = pass.params();
    Backend backend = pass.backend();
    if (config.preLayerNorm()) {
      backend.embeddingBackward(store.grad(names.wordEmbeddings()), null, store.grad(names.tokenTypeEmbeddings()),
          dOut, inputs.ids(), inputs.typeIds(), 0);
      backend.embeddingBackward(store.grad(names.positionEmbeddings()), null, null, dOut, positionIds, null, 0);
    } else {
      backend.embeddingBackward(store.grad(names.wordEmbeddings()), store.grad(names.positionEmbeddings()),
          store.grad(names.tokenTypeEmbeddings()), dOut, inputs.ids(), inputs.typeIds(), 0);
    }
  }

  /**
   * RoBERTa's position ids (B*T) of a batch: along each row, the non-padding tokens are numbered
   * pad + 1, pad + 2, ... and padding tokens get pad (transformers'
   * create_position_ids_from_input_ids, which looks at the ids, not at the attention mask).
   */
  static int[] robertaPositionIds(ModelInput in, int pad) {
    int[] ids = in.inputIds();
    int[] positions = new int[ids.length];
    for (int b = 0; b < in.batch(); b++) {
      int seen = 0;
      for (int t = 0; t < in.seqLen(); t++) {
        int i = b * in.seqLen() + t;
        positions[i] = ids[i] == pad ? pad : pad + ++seen;
      }
    }
    return positions;
  }

  /**
   * The body's share of {@link Model#parameterNameFor}: legacy LayerNorm names modernised, base-model
   * checkpoints (no "bert." / "roberta_prelayernorm." prefix) mapped under the prefix, and null for
   * keys of no model ({@code position_ids} buffers). Head keys ({@code cls.}, {@code lm_head.},
   * {@code classifier.}) pass through.
   */
  static String parameterName(BertConfig config, String key) {
    String k = TransformerModel.modernNormNames(key);
    if (k.endsWith("position_ids")) {
      return null;
    }
    String base = BertNames.of(config).base;
    if (!k.startsWith(base) && !BertNames.isHeadKey(k)) {
      k = base + k; // BertModel / RobertaPreLayerNormModel checkpoints have no prefix
    }
    return k;
  }
}
