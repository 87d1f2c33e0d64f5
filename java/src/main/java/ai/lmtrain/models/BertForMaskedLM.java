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
 * Shapes: ids (B, T) -> logits (B*T, V).
 */
public final class BertForMaskedLM extends TransformerModel implements LanguageModel {
  private static final String HEAD = "cls.predictions.";

  private final BertConfig config;
  private final GeluKind gelu;
  private final BertBody body;
  private final Linear transform;
  private final LayerNorm transformNorm;
  private final Linear decoder;
  private Tensor encoded;
  private Tensor transformed;
  private Tensor activated;
  private Tensor normalized;

  /** A model with zeroed parameters; call {@link #initialize} or load weights. */
  public BertForMaskedLM(BertConfig config, Backend backend, DType computeType) {
    super(backend, table(config), computeType, config.vocabSize(), config.maxPositionEmbeddings());
    this.config = config;
    int h = config.hiddenSize();
    gelu = config.geluKind();
    body = new BertBody(config);
    transform = new Linear(HEAD + "transform.dense.weight", HEAD + "transform.dense.bias", h, h, Linear.Layout.OUT_IN);
    transformNorm = new LayerNorm(HEAD + "transform.LayerNorm", h, (float) config.layerNormEps());
    decoder = new Linear(BertBody.EMB + "word_embeddings.weight", HEAD + "bias", h, config.vocabSize(),
        Linear.Layout.OUT_IN);
  }

  /** The parameter layout: the body's, then the MLM head's. */
  static ParameterTable table(BertConfig c) {
    int h = c.hiddenSize();
    ParameterTable t = new ParameterTable();
    BertBody.addParameters(t, c);
    t.add(HEAD + "transform.dense.weight", true, h, h);
    t.add(HEAD + "transform.dense.bias", false, h);
    BertBody.addNorm(t, HEAD + "transform.LayerNorm", h);
    t.add(HEAD + "bias", false, c.vocabSize());
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
  public Tensor forward(Pass pass, ModelInput in) {
    encoded = body.forward(pass, upload(pass, in, true, 0), in.batch(), in.seqLen());
    transformed = transform.forward(pass, encoded);
    activated = pass.activation(transformed.shape());
    pass.backend().gelu(activated, transformed, gelu);
    normalized = transformNorm.forward(pass, activated);
    return decoder.forward(pass, normalized);
  }

  @Override
  public void backward(Pass pass, Tensor dlogits) {
    Tensor d = transformNorm.backward(pass, decoder.backward(pass, dlogits, normalized, true));
    pass.backend().geluBackward(d, transformed, d, gelu);
    body.backward(pass, transform.backward(pass, d, encoded, true));
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
