package ai.lmtrain.models;

import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.ParameterTable;

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
public final class BertForMaskedLM extends BertLanguageModel {

  /** A model with zeroed parameters; call {@link #initialize} or load weights. */
  public BertForMaskedLM(BertConfig config, Backend backend, DType computeType) {
    super(config, table(config), backend, computeType);
  }

  /** The parameter layout: the body's, then the masked-LM head's. */
  public static ParameterTable table(BertConfig c) {
    ParameterTable t = new ParameterTable();
    BertBody.addParameters(t, c);
    addHeadParameters(t, c);
    return t;
  }

  @Override
  public String configJson() {
    return config.toJson();
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
