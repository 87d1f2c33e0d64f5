package ai.lmtrain.models;

import ai.lmtrain.layers.Pass;
import ai.lmtrain.layers.PredictionHeadTransform;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.GeluKind;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tensor.Tensor;
import java.util.Map;

/**
 * What BERT's masked language models share ({@link BertForMaskedLM}, {@link BertForPreTraining}):
 * the {@link BertBody} and the masked-LM head on top of it,
 * <pre>
 *   x = BertBody(ids, token types, attention mask)                              (B*T, H)
 *   features = LN(gelu(dense(x)))  at the positions that need logits           (M, H)
 *   logits = features W^T + bias   (W: the word embeddings, or with tie_word_embeddings false the
 *                                   decoder's own weight (V, H))
 * </pre>
 * The head is cls.predictions.{transform.dense, transform.LayerNorm, bias} (BERT, gelu of
 * hidden_act) or lm_head.{dense, layer_norm, bias} (pre-LN, RobertaLMHead's exact gelu); the output
 * bias and an untied decoder weight are stored with the padded vocabulary's rows, like the word
 * embeddings, and the projection runs chunk by chunk ({@link TransformerLanguageModel}).
 */
abstract class BertLanguageModel extends TransformerLanguageModel implements MaskedLanguageModel {
  protected final BertConfig config;
  private final BertBody body;
  private final PredictionHeadTransform transform;

  /** A model of {@code table}'s parameters, zeroed. */
  protected BertLanguageModel(BertConfig config, ParameterTable table, Backend backend, DType computeType) {
    super(backend, table, computeType, config.vocabSize(), config.maxPositions(), outputWeight(config),
        BertNames.of(config).outputBias);
    this.config = config;
    body = new BertBody(config);
    BertNames names = BertNames.of(config);
    // RobertaLMHead applies the exact gelu whatever hidden_act says
    transform = new PredictionHeadTransform(names.headDense, names.headNorm, config.hiddenSize(),
        config.preLayerNorm() ? GeluKind.EXACT : config.geluKind(), (float) config.layerNormEps());
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

  /** The output projection's weight: the word embeddings (tied), or the decoder's own weight. */
  private static String outputWeight(BertConfig c) {
    BertNames names = BertNames.of(c);
    return c.tieWordEmbeddings() ? names.wordEmbeddings() : names.decoder + ".weight";
  }

  public BertConfig config() {
    return config;
  }

  /**
   * An untied head's output bias is saved a second time as the decoder's bias
   * (cls.predictions.decoder.bias, lm_head.decoder.bias): transformers 5 ties that bias to the output
   * bias only with tie_word_embeddings true, and its forward adds the decoder's.
   */
  @Override
  public Map<String, String> savedCopies() {
    BertNames names = BertNames.of(config);
    return config.tieWordEmbeddings() ? Map.of() : Map.of(names.decoder + ".bias", names.outputBias);
  }

  @Override
  public String modelType() {
    return config.modelType();
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
}
