package ai.lmtrain.models;

import ai.lmtrain.layers.BertPooler;
import ai.lmtrain.layers.Dropout;
import ai.lmtrain.layers.Linear;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tensor.Tensor;

/**
 * BERT with a sequence-classification head, as Hugging Face's {@code BertForSequenceClassification}:
 * <pre>
 *   x = {@link BertBody}(ids, token types, attention mask)                      (B*T, H)
 *   pooled = tanh(bert.pooler.dense(x[b * T]))                 ([CLS] row of each sequence, {@link BertPooler})
 *   logits = classifier(dropout(pooled))                       (B, L); classifier.weight (L, H), classifier.bias (L)
 * </pre>
 * Dropout is classifier_dropout, or hidden_dropout_prob when that is null.
 */
public final class BertForSequenceClassification extends TransformerModel implements SequenceClassifier {
  private static final String CLASSIFIER = "classifier.";

  private final BertConfig config;
  private final SequenceClassification head;
  private final BertBody body;
  private final BertPooler pooler;
  private final Dropout dropout;
  private final Linear classifier;
  private Tensor dropped;

  /** A model with zeroed parameters; call {@link #initialize} or load weights. */
  public BertForSequenceClassification(BertConfig config, SequenceClassification head, Backend backend,
      DType computeType) {
    super(backend, table(config, head.numLabels()), computeType, config.vocabSize(), config.maxPositionEmbeddings());
    this.config = config;
    this.head = head.withPadTokenId(null);
    int h = config.hiddenSize();
    body = new BertBody(config);
    pooler = new BertPooler("bert.pooler", h);
    dropout = new Dropout((float) (head.classifierDropout() != null ? head.classifierDropout()
        : config.hiddenDropoutProb()));
    classifier = new Linear(CLASSIFIER + "weight", CLASSIFIER + "bias", h, head.numLabels(), Linear.Layout.OUT_IN);
  }

  /** The parameter layout: the body's, the pooler, the classifier. */
  static ParameterTable table(BertConfig c, int numLabels) {
    int h = c.hiddenSize();
    ParameterTable t = new ParameterTable();
    BertBody.addParameters(t, c);
    t.add("bert.pooler.dense.weight", true, h, h);
    t.add("bert.pooler.dense.bias", false, h);
    t.add(CLASSIFIER + "weight", true, numLabels, h);
    t.add(CLASSIFIER + "bias", false, numLabels);
    return t;
  }

  @Override
  public SequenceClassification classification() {
    return head;
  }

  @Override
  public BertConfig baseConfig() {
    return config;
  }

  @Override
  public int padId() {
    return config.padTokenId() == null ? 0 : config.padTokenId();
  }

  @Override
  public String modelType() {
    return BertConfig.MODEL_TYPE;
  }

  @Override
  public String configJson() {
    return ModelConfigs.toJson(config, "BertForSequenceClassification", node -> head.writeTo(node, false));
  }

  @Override
  public Tensor forward(Pass pass, ModelInput in) {
    Tensor x = body.forward(pass, upload(pass, in, true, 0), in.batch(), in.seqLen());
    dropped = dropout.forward(pass, pooler.forward(pass, x, in.batch(), in.seqLen()));
    return classifier.forward(pass, dropped);
  }

  @Override
  public void backward(Pass pass, Tensor dlogits) {
    Tensor dpooled = dropout.backward(pass, classifier.backward(pass, dlogits, dropped, true));
    body.backward(pass, pooler.backward(pass, dpooled));
  }

  @Override
  public void initialize(long seed) {
    initializeWith(seed, BertBody.initializer(config));
  }

  @Override
  public String parameterNameFor(String key) {
    String k = BertBody.parameterName(key);
    if (k == null || k.startsWith("cls.")) {
      return null; // the pre-training heads (masked LM, next sentence) are dropped
    }
    return k;
  }
}
