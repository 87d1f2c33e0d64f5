package ai.lmtrain.models;

import ai.lmtrain.layers.LayerNorm;
import ai.lmtrain.layers.Linear;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.GeluKind;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tensor.Tensor;

/**
 * BERT with its masked-LM head, as Hugging Face's {@code BertForMaskedLM} (no pooler):
 * <pre>
 *   x = {@link BertBody}(ids, token types, attention mask)                      (B*T, H)
 *   logits = LN(gelu(dense(x))) W_word^T + cls.predictions.bias      (decoder tied to word embeddings)
 * </pre>
 * Shapes: ids (B, T) -> logits (B*T, V), computed only at the positions that need them (in training
 * the masked ones; see {@link TransformerLanguageModel}); cls.predictions.bias is stored with the
 * padded vocabulary's rows, like the word embeddings.
 */
public final class BertForMaskedLM extends TransformerLanguageModel {
  private static final String HEAD = "cls.predictions.";

  private final BertConfig config;
  private final GeluKind gelu;
  private final BertBody body;
  private final Linear transform;
  private final LayerNorm transformNorm;
  private Tensor headInput;
  private Tensor transformed;

  /** A model with zeroed parameters; call {@link #initialize} or load weights. */
  public BertForMaskedLM(BertConfig config, Backend backend, DType computeType) {
    super(backend, table(config), computeType, config.vocabSize(), config.maxPositionEmbeddings(),
        BertBody.EMB + "word_embeddings.weight", HEAD + "bias");
    this.config = config;
    int h = config.hiddenSize();
    gelu = config.geluKind();
    body = new BertBody(config);
    transform = new Linear(HEAD + "transform.dense.weight", HEAD + "transform.dense.bias", h, h, Linear.Layout.OUT_IN);
    transformNorm = new LayerNorm(HEAD + "transform.LayerNorm", h, (float) config.layerNormEps());
  }

  /** The parameter layout: the body's, then the MLM head's (its bias stored with {@code paddedVocabSize(V)} rows). */
  public static ParameterTable table(BertConfig c) {
    int h = c.hiddenSize();
    ParameterTable t = new ParameterTable();
    BertBody.addParameters(t, c);
    t.add(HEAD + "transform.dense.weight", true, h, h);
    t.add(HEAD + "transform.dense.bias", false, h);
    BertBody.addNorm(t, HEAD + "transform.LayerNorm", h);
    t.addPadded(HEAD + "bias", false, paddedVocabSize(c.vocabSize()), c.vocabSize());
    return t;
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
    return body.forward(pass, upload(pass, in, true, 0), in.batch(), in.seqLen());
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
    body.backward(pass, dhidden);
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
    initializeWith(seed, BertBody.initializer(config));
  }

  @Override
  public String parameterNameFor(String key) {
    return parameterName(key);
  }

  /** {@link #parameterNameFor} without a model: the parameter a checkpoint key fills, or null. */
  static String parameterName(String key) {
    String k = BertBody.parameterName(key);
    if (k == null || k.equals(HEAD + "decoder.weight") || k.equals(HEAD + "decoder.bias") || k.startsWith("bert.pooler.")
        || k.startsWith("cls.seq_relationship") || k.startsWith("classifier.")) {
      return null; // tied to word embeddings / to cls.predictions.bias, or not part of the MLM model
    }
    return k;
  }
}
