package ai.lmtrain.models;

import ai.lmtrain.layers.Linear;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tensor.Tensor;

/**
 * GPT-2 with a sequence-classification head, as Hugging Face's {@code GPT2ForSequenceClassification}:
 * <pre>
 *   h = {@link Gpt2Body}(ids, attention mask)                              (B*T, E)
 *   logits = score(h[b, last_b])                           (B, L); score.weight (L, E), no bias
 * </pre>
 * {@code last_b} is, as in transformers, the rightmost position of row b whose id is not
 * pad_token_id (so left and right padding both work; a row of nothing but padding reads position
 * 0), and with no pad_token_id the last position, which Hugging Face allows only for batches of
 * one sequence.
 */
public final class Gpt2ForSequenceClassification extends TransformerModel implements SequenceClassifier {
  private static final String SCORE = "score.weight";

  private final Gpt2Config config;
  private final SequenceClassification head;
  private final Gpt2Body body;
  private final Linear score;
  private Tensor rows;
  private Tensor last;
  private long positions;

  /** A model with zeroed parameters; call {@link #initialize} or load weights. */
  public Gpt2ForSequenceClassification(Gpt2Config config, SequenceClassification head, Backend backend,
      DType computeType) {
    super(backend, table(config, head.numLabels()), computeType, config.vocabSize(), config.nPositions());
    ModelConfigs.requireTokenId("pad_token_id", head.padTokenId(), config.vocabSize());
    this.config = config;
    this.head = new SequenceClassification(head.labels(), head.problemType(), head.padTokenId(), null);
    body = new Gpt2Body(config);
    score = new Linear(SCORE, null, config.nEmbd(), head.numLabels(), Linear.Layout.OUT_IN);
  }

  /** The parameter layout: the body's, then the score head. */
  static ParameterTable table(Gpt2Config c, int numLabels) {
    ParameterTable t = new ParameterTable();
    Gpt2Body.addParameters(t, c);
    t.add(SCORE, true, numLabels, c.nEmbd());
    return t;
  }

  /**
   * The row of each sequence's last non-padding token in the (B*T) positions of {@code in}, by
   * transformers' rule (see the class comment).
   *
   * @throws IllegalArgumentException for a batch of several sequences without a pad_token_id
   */
  public int[] lastTokenRows(ModelInput in) {
    Integer pad = head.padTokenId();
    if (pad == null && in.batch() != 1) {
      throw new IllegalArgumentException("cannot classify a batch of " + in.batch() + " sequences without a"
          + " pad_token_id in config.json (the head reads each sequence's last non-padding token)");
    }
    int[] result = new int[in.batch()];
    for (int b = 0; b < in.batch(); b++) {
      int lastReal = pad == null ? in.seqLen() - 1 : 0;
      for (int t = 0; pad != null && t < in.seqLen(); t++) {
        if (in.inputIds()[b * in.seqLen() + t] != pad) {
          lastReal = t;
        }
      }
      result[b] = b * in.seqLen() + lastReal;
    }
    return result;
  }

  @Override
  public SequenceClassification classification() {
    return head;
  }

  @Override
  public Gpt2Config baseConfig() {
    return config;
  }

  @Override
  public int padId() {
    return head.padTokenId() == null ? 0 : head.padTokenId();
  }

  @Override
  public String modelType() {
    return Gpt2Config.MODEL_TYPE;
  }

  @Override
  public String configJson() {
    return ModelConfigs.toJson(config, "GPT2ForSequenceClassification", node -> head.writeTo(node, true));
  }

  @Override
  public Tensor forward(Pass pass, ModelInput in) {
    int[] lastRows = lastTokenRows(in);
    Tensor h = body.forward(pass, upload(pass, in, false, 0), in.batch(), in.seqLen());
    positions = h.rows();
    rows = pass.scratch(DType.I32, in.batch());
    pass.backend().upload(rows, lastRows);
    last = pass.activation(in.batch(), config.nEmbd());
    pass.backend().gatherRows(last, h, rows);
    return score.forward(pass, last);
  }

  @Override
  public void backward(Pass pass, Tensor dlogits) {
    Tensor dlast = score.backward(pass, dlogits, last, true);
    Tensor dh = pass.activation(positions, config.nEmbd());
    pass.backend().gatherRowsBackward(dh, dlast, rows);
    body.backward(pass, dh);
  }

  @Override
  public void initialize(long seed) {
    initializeWith(seed, Gpt2Body.initializer(config));
  }

  @Override
  public String parameterNameFor(String key) {
    String k = Gpt2Body.parameterName(key);
    if (k == null || k.startsWith("lm_head.")) {
      return null; // the language-model head is dropped
    }
    return k;
  }
}
