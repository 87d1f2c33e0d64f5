package ai.lmtrain.models;

import ai.lmtrain.layers.BertLayer;
import ai.lmtrain.layers.Dropout;
import ai.lmtrain.layers.LayerNorm;
import ai.lmtrain.layers.Linear;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.GeluKind;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * BERT with its masked-LM head, as Hugging Face's {@code BertForMaskedLM} (no pooler):
 * <pre>
 *   e = dropout(LN(word[ids] + position[t] + token_type[tt]))
 *   x = encoder layers (post-LN, exact GELU) over e, keys masked by the attention mask     body: (B*T, H)
 *   logits = LN(gelu(dense(x))) W_word^T + cls.predictions.bias      head: decoder tied to word embeddings
 * </pre>
 * Shapes: ids (B, T) -> logits (B*T, V), computed only where needed (the masked positions in
 * training); the word embeddings and the output bias are stored with the vocabulary padded to a
 * multiple of 128 rows.
 */
public final class BertForMaskedLM extends TransformerModel {
  private static final String EMB = "bert.embeddings.";
  private static final String HEAD = "cls.predictions.";

  private final BertConfig config;
  private final GeluKind gelu;
  private final LayerNorm embeddingNorm;
  private final Dropout embeddingDropout;
  private final List<BertLayer> layers = new ArrayList<>();
  private final Linear transform;
  private final LayerNorm transformNorm;
  private Inputs inputs;
  private Tensor headInput;
  private Tensor transformed;

  /** A model with zeroed parameters; call {@link #initialize} or load weights. */
  public BertForMaskedLM(BertConfig config, Backend backend, DType computeType) {
    super(backend, table(config), computeType, config.vocabSize(), config.maxPositionEmbeddings(),
        EMB + "word_embeddings.weight", HEAD + "bias");
    this.config = config;
    int h = config.hiddenSize();
    float eps = (float) config.layerNormEps();
    gelu = GeluKind.fromHfName(config.hiddenAct());
    embeddingNorm = new LayerNorm(EMB + "LayerNorm", h, eps);
    embeddingDropout = new Dropout((float) config.hiddenDropoutProb());
    for (int i = 0; i < config.numHiddenLayers(); i++) {
      layers.add(new BertLayer("bert.encoder.layer." + i, h, config.intermediateSize(), config.numAttentionHeads(), gelu,
          (float) config.hiddenDropoutProb(), (float) config.attentionProbsDropoutProb(), eps));
    }
    transform = new Linear(HEAD + "transform.dense.weight", HEAD + "transform.dense.bias", h, h, Linear.Layout.OUT_IN);
    transformNorm = new LayerNorm(HEAD + "transform.LayerNorm", h, eps);
  }

  /**
   * The parameter layout: Hugging Face names; query/key/value packed so they form one (3H, H)
   * matrix; the word embeddings and cls.predictions.bias stored with {@code paddedVocabSize(V)} rows.
   */
  public static ParameterTable table(BertConfig c) {
    int h = c.hiddenSize();
    int paddedVocab = paddedVocabSize(c.vocabSize());
    ParameterTable t = new ParameterTable();
    t.addPadded(EMB + "word_embeddings.weight", true, paddedVocab, c.vocabSize(), h);
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
    t.add(HEAD + "transform.dense.weight", true, h, h);
    t.add(HEAD + "transform.dense.bias", false, h);
    addNorm(t, HEAD + "transform.LayerNorm", h);
    t.addPadded(HEAD + "bias", false, paddedVocab, c.vocabSize());
    return t;
  }

  private static void addNorm(ParameterTable t, String prefix, int h) {
    t.add(prefix + ".weight", false, h);
    t.add(prefix + ".bias", false, h);
  }

  public BertConfig config() {
    return config;
  }

  @Override
  public String modelType() {
    return "bert";
  }

  @Override
  public String configJson() {
    return config.toJson();
  }

  @Override
  protected Tensor body(Pass pass, ModelInput in) {
    Backend backend = pass.backend();
    inputs = upload(pass, in, true, 0);
    int h = config.hiddenSize();
    Tensor embedded = pass.activation(in.batch(), in.seqLen(), h);
    backend.embeddingForward(embedded, inputs.ids(), inputs.typeIds(), store.param(EMB + "word_embeddings.weight"),
        store.param(EMB + "position_embeddings.weight"), store.param(EMB + "token_type_embeddings.weight"), 0);
    Tensor x = embeddingDropout.forward(pass, embeddingNorm.forward(pass, embedded.view(in.positions(), h)));
    for (BertLayer layer : layers) {
      x = layer.forward(pass, x, in.batch(), in.seqLen(), inputs.keyMask());
    }
    return x;
  }

  @Override
  protected Tensor headFeatures(Pass pass, Tensor rows) {
    headInput = rows;
    transformed = transform.forward(pass, rows);
    Tensor activated = pass.activation(transformed.shape());
    pass.backend().gelu(activated, transformed, gelu);
    return transformNorm.forward(pass, activated);
  }

  @Override
  protected Tensor headFeaturesBackward(Pass pass, Tensor dfeatures) {
    Tensor d = transformNorm.backward(pass, dfeatures);
    pass.backend().geluBackward(d, transformed, d, gelu);
    return transform.backward(pass, d, headInput, true);
  }

  @Override
  protected void bodyBackward(Pass pass, Tensor dhidden) {
    Backend backend = pass.backend();
    Tensor dx = backwardLayers(pass, dhidden, layers.size(), (i, dy) -> layers.get(i).backward(pass, dy));
    Tensor dEmbedded = embeddingNorm.backward(pass, embeddingDropout.backward(pass, dx));
    long[] bth = {inputs.ids().dim(0), inputs.ids().dim(1), config.hiddenSize()};
    backend.embeddingBackward(store.grad(EMB + "word_embeddings.weight"), store.grad(EMB + "position_embeddings.weight"),
        store.grad(EMB + "token_type_embeddings.weight"), dEmbedded.view(bth), inputs.ids(), inputs.typeIds(), 0);
  }

  @Override
  public int[] lossLabels(ModelInput input) {
    if (input.labels() == null) {
      throw new IllegalArgumentException("labels are required to compute a loss");
    }
    return input.labels();
  }

  @Override
  public void initialize(long seed) {
    double std = config.initializerRange();
    int pad = config.padTokenId() == null ? -1 : config.padTokenId();
    int h = config.hiddenSize();
    initializeWith(seed, (e, firstRow, values, random) -> {
      String name = e.name();
      if (isNormWeight(name)) {
        java.util.Arrays.fill(values, 1f);
      } else if (name.endsWith(".weight")) {
        normal(values, random, std);
        long padRow = pad - firstRow; // the padding token's embedding is zero, as in Hugging Face's init
        if (name.equals(EMB + "word_embeddings.weight") && pad >= 0 && padRow >= 0 && padRow * h < values.length) {
          java.util.Arrays.fill(values, (int) padRow * h, (int) (padRow + 1) * h, 0f);
        }
      }
    });
  }

  @Override
  public String parameterNameFor(String key) {
    String k = modernNormNames(key);
    if (k.equals(HEAD + "decoder.weight") || k.equals(HEAD + "decoder.bias") || k.startsWith("bert.pooler.")
        || k.endsWith("position_ids") || k.startsWith("cls.seq_relationship")) {
      return null; // tied to word embeddings / to cls.predictions.bias, or not part of the MLM model
    }
    if (!k.startsWith("bert.") && !k.startsWith("cls.")) {
      k = "bert." + k; // BertModel checkpoints have no "bert." prefix
    }
    return k;
  }
}
