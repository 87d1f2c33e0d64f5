package ai.lmtrain.models;

import ai.lmtrain.layers.Pass;
import ai.lmtrain.layers.PredictionHeadTransform;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.GeluKind;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tensor.Tensor;

/**
 * BERT with its masked-LM head, as Hugging Face's {@code BertForMaskedLM} (no pooler), or
 * {@code RobertaPreLayerNormForMaskedLM} for model_type "roberta-prelayernorm":
 * <pre>
 *   x = {@link BertBody}(ids, token types, attention mask)                      (B*T, H)
 *   logits = LN(gelu(dense(x))) W^T + bias     (W: the word embeddings, or with tie_word_embeddings false
 *                                              the decoder's own weight (V, H))
 * </pre>
 * The head is cls.predictions.{transform.dense, transform.LayerNorm, bias} (BERT, gelu of
 * hidden_act) or lm_head.{dense, layer_norm, bias} (pre-LN, RobertaLMHead's exact gelu).
 * Shapes: ids (B, T) -> logits (B*T, V), computed only at the positions that need them (in training
 * the masked ones; see {@link TransformerLanguageModel}); the output bias and an untied decoder
 * weight are stored with the padded vocabulary's rows, like the word embeddings.
 */
public final class BertForMaskedLM extends TransformerLanguageModel implements MaskedLanguageModel {
  private final BertConfig config;
  private final BertBody body;
  private final PredictionHeadTransform transform;

  /** A model with zeroed parameters; call {@link #initialize} or load weights. */
  public BertForMaskedLM(BertConfig config, Backend backend, DType computeType) {
    super(backend, table(config), computeType, config.vocabSize(), config.maxPositions(), outputWeight(config),
        BertNames.of(config).outputBias);
    this.config = config;
    body = new BertBody(config);
    transform = headTransform(config);
  }

  /** The parameter layout: the body's, then the masked-LM head's. */
  public static ParameterTable table(BertConfig c) {
    ParameterTable t = new ParameterTable();
    BertBody.addParameters(t, c);
    addHeadParameters(t, c);
    return t;
  }

  /**
   * Appends the masked-LM head's parameters (transform dense and LayerNorm, output bias, and the
   * decoder weight when it is not tied to the word embeddings); the output bias and the decoder
   * weight are stored with {@code paddedVocabSize(V)} rows.
   */
  static void addHeadParameters(ParameterTable t, BertConfig c) {
    BertNames names = BertNames.of(c);
    int h = c.hiddenSize();
    t.add(names.headDense + ".weight", true, h, h);
    t.add(names.headDense + ".bias", false, h);
    BertBody.addNorm(t, names.headNorm, h);
    int paddedRows = paddedVocabSize(c.vocabSize());
    t.addPadded(names.outputBias, false, paddedRows, c.vocabSize());
    if (!c.tieWordEmbeddings()) {
      t.addPadded(names.decoder + ".weight", true, paddedRows, c.vocabSize(), h);
    }
  }

  /** The masked-LM head's transform; RobertaLMHead applies the exact gelu whatever hidden_act says. */
  static PredictionHeadTransform headTransform(BertConfig c) {
    BertNames names = BertNames.of(c);
    return new PredictionHeadTransform(names.headDense, names.headNorm, c.hiddenSize(),
        c.preLayerNorm() ? GeluKind.EXACT : c.geluKind(), (float) c.layerNormEps());
  }

  /** The output projection's weight: the word embeddings (tied), or the decoder's own weight. */
  static String outputWeight(BertConfig c) {
    BertNames names = BertNames.of(c);
    return c.tieWordEmbeddings() ? names.wordEmbeddings() : names.decoder + ".weight";
  }

  public BertConfig config() {
    return config;
  }

  @Override
  public String modelType() {
    return config.modelType();
  }

  @Override
  public String configJson() {
    return config.toJson();
  }

  @Override
  protected Tensor body(Pass pass, ModelInput in) {
    return body.forward(pass, upload(pass, in, true, 0), in);
  }

  @Override
  protected Tensor headFeatures(Pass pass, Tensor rows) {
    return transform.forward(pass, rows);
  }

  @Override
  protected Tensor headFeaturesBackward(Pass pass, Tensor dfeatures) {
    return transform.backward(pass, dfeatures);
  }

  @Override
  protected void bodyBackward(Pass pass, Tensor dhidden) {
    body.backward(pass, dhidden);
  }

  @Override
  public void initialize(long seed) {
    initializeWith(seed, BertBody.initializer(config, store.table()));
  }

  @Override
  public String parameterNameFor(String key) {
    return parameterName(config, key);
  }

  /**
   * {@link #parameterNameFor} without a model: the body's keys and the masked-LM head's, null for
   * the tied decoder keys and for keys of other heads (pooler, next sentence, classifier).
   */
  static String parameterName(BertConfig config, String key) {
    BertNames names = BertNames.of(config);
    String k = BertBody.parameterName(config, key);
    boolean tiedOrAlias = k != null && k.startsWith(names.decoder + ".")
        && (config.tieWordEmbeddings() || !k.equals(names.decoder + ".weight"));
    if (k == null || tiedOrAlias || k.startsWith(names.pooler() + ".")
        || k.startsWith("cls.seq_relationship") || k.startsWith("classifier.")) {
      return null; // tied to the word embeddings / to the output bias, or not part of the masked-LM model
    }
    return k;
  }
}
