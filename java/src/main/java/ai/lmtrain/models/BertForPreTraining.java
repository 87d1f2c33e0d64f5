package ai.lmtrain.models;

import ai.lmtrain.layers.BertPooler;
import ai.lmtrain.layers.Linear;
import ai.lmtrain.layers.Pass;
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
 *   logits = LN(gelu(dense(x))) W^T + bias      (M, V)  masked LM (W as in BertForMaskedLM: tied or not)
 *   pooled = tanh(pooler.dense(x[b * T]))                 ([CLS] row, {@link BertPooler})  (B, H)
 *   seq_relationship = cls.seq_relationship(pooled)                             (B, 2)
 * </pre>
 * The masked-LM head runs as {@link BertForMaskedLM}'s, on the M masked positions only, chunk by
 * chunk over the padded vocabulary ({@link TransformerLanguageModel}); {@link #preTrainingLoss}
 * adds the sentence-pair head.
 * cls.seq_relationship.weight is (2, H), its bias (2); label 0 means "B follows A" (IsNext, or
 * the original order), 1 means "B is a random segment" (NSP) or "A and B are swapped" (SOP).
 * A pre-LN body (model_type "roberta-prelayernorm") takes its pooler under roberta_prelayernorm.;
 * transformers has no pre-training class for it, so such a folder loads there as
 * RobertaPreLayerNormForMaskedLM (the sentence head's keys left unused).
 */
public final class BertForPreTraining extends BertLanguageModel {
  /** The sentence-pair head's prefix. */
  static final String SEQ_RELATIONSHIP = "cls.seq_relationship";

  private final BertPooler pooler;
  private final Linear seqRelationship;

  /** A model with zeroed parameters; call {@link #initialize} or load weights. */
  public BertForPreTraining(BertConfig config, Backend backend, DType computeType) {
    super(config, table(config), backend, computeType);
    int h = config.hiddenSize();
    pooler = new BertPooler(BertNames.of(config).pooler(), h);
    seqRelationship = new Linear(SEQ_RELATIONSHIP + ".weight", SEQ_RELATIONSHIP + ".bias", h, 2, Linear.Layout.OUT_IN);
  }

  /** The parameter layout: the body's, the masked-LM head's, the pooler, the sentence-pair head. */
  static ParameterTable table(BertConfig c) {
    int h = c.hiddenSize();
    ParameterTable t = new ParameterTable();
    BertBody.addParameters(t, c);
    addHeadParameters(t, c);
    String pooler = BertNames.of(c).pooler();
    t.add(pooler + ".dense.weight", true, h, h);
    t.add(pooler + ".dense.bias", false, h);
    t.add(SEQ_RELATIONSHIP + ".weight", true, 2, h);
    t.add(SEQ_RELATIONSHIP + ".bias", false, 2);
    return t;
  }

  @Override
  public String configJson() {
    return ModelConfigs.toJson(config, config.preLayerNorm() ? config.architecture() : "BertForPreTraining",
        node -> { });
  }

  /**
   * What a pre-training loss pass produced, on the device, valid until the pass's arena resets.
   *
   * @param maskedLm the masked-LM loss output, or null when no position was masked
   * @param sentenceLossSum (1) F32: the sum over the B examples of the sentence-pair cross-entropy
   * @param sentenceLogits (B, 2) in the compute type: the sentence-pair head's logits (kept after a backward)
   */
  public record PreTrainingLoss(LossOutput maskedLm, Tensor sentenceLossSum, Tensor sentenceLogits) {}

  /**
   * Both pre-training losses of one batch in one pass: the masked-LM loss as {@link #loss} computes
   * it (skipped when no position takes a loss) and the sentence-pair head's cross-entropy against
   * {@code sentenceLabels} (B), each 0 or 1. With {@code maskedLm.backward()}, every parameter
   * gradient accumulates the gradient of {@code maskedLm.gradScale() * masked-LM loss sum +
   * sentenceGradScale * sentenceLossSum}, both heads' gradients reaching the encoder in one backward.
   * The labels are uploaded before the forward is queued.
   */
  public PreTrainingLoss preTrainingLoss(Pass pass, ModelInput input, LossTargets maskedLm, int[] sentenceLabels,
      float sentenceGradScale) {
    int b = input.batch();
    if (sentenceLabels.length != b) {
      throw new IllegalArgumentException("a batch of " + b + " examples needs " + b + " sentence labels, got "
          + sentenceLabels.length);
    }
    Backend backend = pass.backend();
    Tensor labels = pass.scratch(DType.I32, b);
    backend.upload(labels, sentenceLabels);
    ScoredRows rows = uploadScoredRows(pass, input, maskedLm);
    boolean backward = maskedLm.backward();
    Tensor hidden = body(pass, input);
    HeadLoss mlm = rows == null ? null : headLoss(pass, hidden, rows, maskedLm);
    Tensor pooled = pooler.forward(pass, hidden, b, input.seqLen());
    Tensor logits = seqRelationship.forward(pass, pooled);
    Tensor lossSum = pass.scratch(DType.F32, 1);
    Tensor dlogits = backward ? pass.activation(logits.shape()) : null;
    backend.softmaxCrossEntropy(lossSum, null, dlogits, logits, labels, null, ModelInput.IGNORE_INDEX,
        sentenceGradScale);
    if (backward) {
      Tensor dhidden = pooler.backward(pass, seqRelationship.backward(pass, dlogits, pooled, true));
      if (mlm != null) {
        backend.add(dhidden, dhidden, mlm.dhidden());
      }
      bodyBackward(pass, dhidden);
    }
    return new PreTrainingLoss(mlm == null ? null : mlm.output(), lossSum, logits);
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
