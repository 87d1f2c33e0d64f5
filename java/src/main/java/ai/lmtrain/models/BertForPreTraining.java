package ai.lmtrain.models;

import ai.lmtrain.layers.BertPooler;
import ai.lmtrain.layers.Linear;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.layers.PredictionHeadTransform;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tensor.Tensor;

/**
 * BERT with both pre-training heads, as Hugging Face's {@code BertForPreTraining}: the masked-LM
 * head of {@link BertForMaskedLM} and the sentence-pair head (next sentence prediction, or sentence
 * order prediction trained through the same head):
 * <pre>
 *   x = {@link BertBody}(ids, token types, attention mask)                      (B*T, H)
 *   logits = LN(gelu(dense(x))) W^T + bias      (B*T, V)  masked LM (W as in BertForMaskedLM: tied or not)
 *   pooled = tanh(pooler.dense(x[b * T]))                 ([CLS] row, {@link BertPooler})  (B, H)
 *   seq_relationship = cls.seq_relationship(pooled)                             (B, 2)
 * </pre>
 * cls.seq_relationship.weight is (2, H), its bias (2); label 0 means "B follows A" (IsNext, or
 * the original order), 1 means "B is a random segment" (NSP) or "A and B are swapped" (SOP).
 * A pre-LN body (model_type "roberta-prelayernorm") takes its pooler under roberta_prelayernorm.;
 * transformers has no pre-training class for it, so such a folder loads there as
 * RobertaPreLayerNormForMaskedLM (the sentence head's keys left unused).
 */
public final class BertForPreTraining extends TransformerModel implements MaskedLanguageModel {
  /** The sentence-pair head's prefix. */
  static final String SEQ_RELATIONSHIP = "cls.seq_relationship";

  private final BertConfig config;
  private final BertBody body;
  private final PredictionHeadTransform transform;
  private final Linear decoder;
  private final BertPooler pooler;
  private final Linear seqRelationship;
  private Tensor normalized;
  private Tensor pooled;
  private Tensor seqRelationshipLogits;

  /** A model with zeroed parameters; call {@link #initialize} or load weights. */
  public BertForPreTraining(BertConfig config, Backend backend, DType computeType) {
    super(backend, table(config), computeType, config.vocabSize(), config.maxPositions());
    this.config = config;
    int h = config.hiddenSize();
    body = new BertBody(config);
    transform = BertForMaskedLM.headTransform(config);
    decoder = BertForMaskedLM.decoder(config);
    pooler = new BertPooler(BertNames.of(config).pooler(), h);
    seqRelationship = new Linear(SEQ_RELATIONSHIP + ".weight", SEQ_RELATIONSHIP + ".bias", h, 2, Linear.Layout.OUT_IN);
  }

  /** The parameter layout: the body's, the masked-LM head's, the pooler, the sentence-pair head. */
  static ParameterTable table(BertConfig c) {
    int h = c.hiddenSize();
    ParameterTable t = new ParameterTable();
    BertBody.addParameters(t, c);
    BertForMaskedLM.addHeadParameters(t, c);
    String pooler = BertNames.of(c).pooler();
    t.add(pooler + ".dense.weight", true, h, h);
    t.add(pooler + ".dense.bias", false, h);
    t.add(SEQ_RELATIONSHIP + ".weight", true, 2, h);
    t.add(SEQ_RELATIONSHIP + ".bias", false, 2);
    return t;
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
    return ModelConfigs.toJson(config, config.preLayerNorm() ? config.architecture() : "BertForPreTraining",
        node -> { });
  }

  /** The masked-LM logits (B*T, V); the sentence-pair logits are then {@link #seqRelationshipLogits()}. */
  @Override
  public Tensor forward(Pass pass, ModelInput in) {
    Tensor encoded = body.forward(pass, upload(pass, in, true, 0), in);
    normalized = transform.forward(pass, encoded);
    Tensor logits = decoder.forward(pass, normalized);
    pooled = pooler.forward(pass, encoded, in.batch(), in.seqLen());
    seqRelationshipLogits = seqRelationship.forward(pass, pooled);
    return logits;
  }

  /** The sentence-pair logits (B, 2) of the last forward, valid until the pass's arena is reset. */
  public Tensor seqRelationshipLogits() {
    return seqRelationshipLogits;
  }

  /** The masked-LM loss's backward alone: the sentence-pair head takes no gradient. */
  @Override
  public void backward(Pass pass, Tensor dlogits) {
    backward(pass, dlogits, null);
  }

  /**
   * Accumulates every parameter gradient from dlogits (B*T, V) and dSeqRelationship (B, 2) (either
   * may be the forward's logits tensor, overwritten; a null dSeqRelationship: no sentence-pair loss).
   */
  public void backward(Pass pass, Tensor dlogits, Tensor dSeqRelationship) {
    Tensor dx = transform.backward(pass, decoder.backward(pass, dlogits, normalized, true));
    if (dSeqRelationship != null) {
      Tensor dPooled = seqRelationship.backward(pass, dSeqRelationship, pooled, true);
      pass.backend().add(dx, dx, pooler.backward(pass, dPooled));
    }
    body.backward(pass, dx);
  }

  @Override
  public void initialize(long seed) {
    initializeWith(seed, BertBody.initializer(config, store.table()));
  }

  @Override
  public String parameterNameFor(String key) {
    return parameterName(config, key);
  }

  /** {@link #parameterNameFor} without a model: the masked-LM model's keys, the pooler's and the sentence head's. */
  static String parameterName(BertConfig config, String key) {
    String k = BertBody.parameterName(config, key);
    if (k != null && (k.startsWith(BertNames.of(config).pooler() + ".") || k.startsWith(SEQ_RELATIONSHIP + "."))) {
      return k;
    }
    return BertForMaskedLM.parameterName(config, key);
  }
}
