package ai.lmtrain.models;

/**
 * The Hugging Face parameter names of the two BERT layouts: {@code BertForMaskedLM} /
 * {@code BertForPreTraining} (post-LN) and {@code RobertaPreLayerNormForMaskedLM} (pre-LN).
 */
enum BertNames {
  /** model_type "bert": body under bert., masked-LM head under cls.predictions. */
  BERT("bert.", "cls.predictions.transform.dense", "cls.predictions.transform.LayerNorm", "cls.predictions.bias",
      "cls.predictions.decoder"),
  /** model_type "roberta-prelayernorm": body under roberta_prelayernorm., masked-LM head under lm_head. */
  PRE_LAYER_NORM("roberta_prelayernorm.", "lm_head.dense", "lm_head.layer_norm", "lm_head.bias", "lm_head.decoder");

  /** The body's prefix, with its dot. */
  final String base;
  /** The masked-LM head transform's dense layer (prefix of .weight, .bias). */
  final String headDense;
  /** The masked-LM head transform's LayerNorm (prefix of .weight, .bias). */
  final String headNorm;
  /** The masked-LM output bias (V). */
  final String outputBias;
  /**
   * The masked-LM output projection's own prefix: its .weight is the untied decoder (V, H) of
   * tie_word_embeddings false, its .bias an alias of {@link #outputBias}.
   */
  final String decoder;

  BertNames(String base, String headDense, String headNorm, String outputBias, String decoder) {
    this.base = base;
    this.headDense = headDense;
    this.headNorm = headNorm;
    this.outputBias = outputBias;
    this.decoder = decoder;
  }

  static BertNames of(BertConfig config) {
    return config.preLayerNorm() ? PRE_LAYER_NORM : BERT;
  }

  /** Prefix of the embeddings' parameters, with its dot. */
  String embeddings() {
    return base + "embeddings.";
  }

  String wordEmbeddings() {
    return embeddings() + "word_embeddings.weight";
  }

  String positionEmbeddings() {
    return embeddings() + "position_embeddings.weight";
  }

  String tokenTypeEmbeddings() {
    return embeddings() + "token_type_embeddings.weight";
  }

  /** Prefix of encoder layer {@code i}, without a trailing dot. */
  String layer(int i) {
    return base + "encoder.layer." + i;
  }

  /** The pre-LN body's final LayerNorm (prefix of .weight, .bias). */
  String finalNorm() {
    return base + "LayerNorm";
  }

  /** The pooler (prefix of .dense.weight, .dense.bias). */
  String pooler() {
    return base + "pooler";
  }

  /** Whether {@code key} belongs to a head rather than to the body (no body prefix to add). */
  static boolean isHeadKey(String key) {
    return key.startsWith("cls.") || key.startsWith("classifier.") || key.startsWith("lm_head.");
  }
}
