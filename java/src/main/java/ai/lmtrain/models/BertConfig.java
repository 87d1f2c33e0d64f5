package ai.lmtrain.models;

import static ai.lmtrain.models.ModelConfigs.requireDivisible;
import static ai.lmtrain.models.ModelConfigs.requireProbability;
import static ai.lmtrain.models.ModelConfigs.requirePositive;
import static ai.lmtrain.models.ModelConfigs.requireSize;
import static ai.lmtrain.models.ModelConfigs.requireTensor;
import static ai.lmtrain.models.ModelConfigs.requireTokenId;

import ai.lmtrain.tensor.GeluKind;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Hyper-parameters of a BERT masked language model, as in HF {@code BertConfig}; each component
 * is one config.json key. Missing keys take HF's defaults (those of {@link #bertBase()}); unknown
 * keys are ignored. The constructor rejects values the model cannot run.
 *
 * @param vocabSize vocab_size: token ids in [0, vocab_size)
 * @param hiddenSize hidden_size H
 * @param numHiddenLayers num_hidden_layers
 * @param numAttentionHeads num_attention_heads; divides H
 * @param intermediateSize intermediate_size I of the feed-forward layer
 * @param hiddenAct hidden_act: "gelu" (exact) or a tanh approximation, see {@link GeluKind}
 * @param hiddenDropoutProb hidden_dropout_prob, in [0, 1)
 * @param attentionProbsDropoutProb attention_probs_dropout_prob, in [0, 1)
 * @param maxPositionEmbeddings max_position_embeddings P
 * @param typeVocabSize type_vocab_size T (segment ids)
 * @param initializerRange initializer_range: std of the normal weight init
 * @param layerNormEps layer_norm_eps
 * @param padTokenId pad_token_id, or null
 * @param positionEmbeddingType position_embedding_type; only "absolute" is supported
 * @param tieWordEmbeddings tie_word_embeddings: the masked-LM decoder shares the word embeddings
 *     (true, HF's default), or has its own weight (V, H), cls.predictions.decoder.weight
 *     (lm_head.decoder.weight for pre-LN)
 * @param modelType model_type: "bert" (post-LN encoder layers) or "roberta-prelayernorm"
 *     (transformers' RobertaPreLayerNorm: LayerNorm before attention and before the feed-forward
 *     layer, a final LayerNorm, RoBERTa's position ids, parameters under roberta_prelayernorm. and
 *     lm_head.); pre-LN needs pad_token_id
 * @param initializer initializer: how {@link Model#initialize} draws new parameters, "hf" or
 *     "pytorch" ({@link InitScheme}); an lmtrain key that transformers ignores
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record BertConfig(
    @JsonProperty("vocab_size") int vocabSize,
    @JsonProperty("hidden_size") int hiddenSize,
    @JsonProperty("num_hidden_layers") int numHiddenLayers,
    @JsonProperty("num_attention_heads") int numAttentionHeads,
    @JsonProperty("intermediate_size") int intermediateSize,
    @JsonProperty("hidden_act") String hiddenAct,
    @JsonProperty("hidden_dropout_prob") double hiddenDropoutProb,
    @JsonProperty("attention_probs_dropout_prob") double attentionProbsDropoutProb,
    @JsonProperty("max_position_embeddings") int maxPositionEmbeddings,
    @JsonProperty("type_vocab_size") int typeVocabSize,
    @JsonProperty("initializer_range") double initializerRange,
    @JsonProperty("layer_norm_eps") double layerNormEps,
    @JsonProperty("pad_token_id") Integer padTokenId,
    @JsonProperty("position_embedding_type") String positionEmbeddingType,
    @JsonProperty("tie_word_embeddings") boolean tieWordEmbeddings,
    @JsonProperty("model_type") String modelType,
    @JsonProperty("initializer") String initializer)
    implements ModelConfig {

  /** HF's {@code model_type} for BERT. */
  public static final String MODEL_TYPE = "bert";

  /** HF's {@code model_type} of the pre-LN BERT (transformers' RobertaPreLayerNorm* classes). */
  public static final String PRE_LAYER_NORM_MODEL_TYPE = "roberta-prelayernorm";

  /**
   * Validates every value.
   *
   * @throws IllegalArgumentException naming the config.json key and what was expected
   */
  public BertConfig {
    requireSize("vocab_size", vocabSize, ModelConfigs.MAX_VOCAB);
    requireSize("hidden_size", hiddenSize, ModelConfigs.MAX_HIDDEN);
    requireSize("num_hidden_layers", numHiddenLayers, ModelConfigs.MAX_LAYERS);
    requirePositive("num_attention_heads", numAttentionHeads);
    requireDivisible("hidden_size", hiddenSize, "num_attention_heads", numAttentionHeads);
    requireSize("intermediate_size", intermediateSize, ModelConfigs.MAX_INNER);
    ModelConfigs.requireActivation("hidden_act", hiddenAct);
    requireProbability("hidden_dropout_prob", hiddenDropoutProb);
    requireProbability("attention_probs_dropout_prob", attentionProbsDropoutProb);
    requireSize("max_position_embeddings", maxPositionEmbeddings, ModelConfigs.MAX_POSITIONS);
    requireSize("type_vocab_size", typeVocabSize, ModelConfigs.MAX_TYPE_VOCAB);
    requireTensor("bert.embeddings.word_embeddings.weight", "vocab_size", vocabSize, "hidden_size", hiddenSize);
    requireTensor("bert.embeddings.position_embeddings.weight", "max_position_embeddings", maxPositionEmbeddings,
        "hidden_size", hiddenSize);
    requireTensor("intermediate.dense.weight", "intermediate_size", intermediateSize, "hidden_size", hiddenSize);
    requireTensor("attention.self.query|key|value.weight", "3 x hidden_size", 3 * hiddenSize, "hidden_size",
        hiddenSize);
    requirePositive("initializer_range", initializerRange);
    requirePositive("layer_norm_eps", layerNormEps);
    requireTokenId("pad_token_id", padTokenId, vocabSize);
    if (!"absolute".equals(positionEmbeddingType)) {
      throw new IllegalArgumentException("position_embedding_type '" + positionEmbeddingType
          + "' is not supported (expected \"absolute\")");
    }
    if (!MODEL_TYPE.equals(modelType) && !PRE_LAYER_NORM_MODEL_TYPE.equals(modelType)) {
      throw new IllegalArgumentException("model_type '" + modelType + "' is not a BERT type (expected \""
          + MODEL_TYPE + "\" or \"" + PRE_LAYER_NORM_MODEL_TYPE + "\")");
    }
    if (PRE_LAYER_NORM_MODEL_TYPE.equals(modelType)) {
      if (padTokenId == null) {
        throw new IllegalArgumentException("a " + PRE_LAYER_NORM_MODEL_TYPE + " model needs pad_token_id (its"
            + " position ids count from pad_token_id + 1)");
      }
      if (maxPositionEmbeddings < padTokenId + 2) {
        throw new IllegalArgumentException("max_position_embeddings " + maxPositionEmbeddings + " leaves no position"
            + " for a " + PRE_LAYER_NORM_MODEL_TYPE + " model (positions start at pad_token_id + 1 = "
            + (padTokenId + 1) + ")");
      }
    }
    InitScheme.parse(initializer);
  }

  /**
   * A config with the architecture's model_type "bert" and Hugging Face's initialisation (the
   * components before {@code modelType}, as in earlier releases).
   */
  public BertConfig(int vocabSize, int hiddenSize, int numHiddenLayers, int numAttentionHeads, int intermediateSize,
      String hiddenAct, double hiddenDropoutProb, double attentionProbsDropoutProb, int maxPositionEmbeddings,
      int typeVocabSize, double initializerRange, double layerNormEps, Integer padTokenId,
      String positionEmbeddingType, boolean tieWordEmbeddings) {
    this(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct, hiddenDropoutProb,
        attentionProbsDropoutProb, maxPositionEmbeddings, typeVocabSize, initializerRange, layerNormEps, padTokenId,
        positionEmbeddingType, tieWordEmbeddings, MODEL_TYPE, InitScheme.HF.key());
  }

  /** bert-base-uncased, which equals HF's BertConfig defaults: 12 layers, H 768, 12 heads, I 3072. */
  public static BertConfig bertBase() {
    return new BertConfig(30522, 768, 12, 12, 3072, "gelu", 0.1, 0.1, 512, 2, 0.02, 1e-12, 0,
        "absolute", true);
  }

  /**
   * transformers' RobertaPreLayerNormConfig defaults: bert-base's shape with pre-LN layers,
   * vocab_size 50265 and pad_token_id 1.
   */
  public static BertConfig robertaPreLayerNorm() {
    return new BertConfig(50265, 768, 12, 12, 3072, "gelu", 0.1, 0.1, 512, 2, 0.02, 1e-12, 1, "absolute", true,
        PRE_LAYER_NORM_MODEL_TYPE, InitScheme.HF.key());
  }

  /**
   * A tiny BERT for tests and quick experiments: 2 layers, H 128, 2 heads (head dim 64), I 512,
   * 64 positions, otherwise bert-base values.
   */
  public static BertConfig tiny(int vocabSize) {
    return new BertConfig(vocabSize, 128, 2, 2, 512, "gelu", 0.1, 0.1, 64, 2, 0.02, 1e-12, 0,
        "absolute", true);
  }

  /**
   * Reads an HF config.json of model_type "bert" or "roberta-prelayernorm"; missing keys take
   * HF's defaults of that type ({@link #bertBase()}, {@link #robertaPreLayerNorm()}), unknown keys
   * are ignored.
   *
   * @throws ai.lmtrain.io.FileFormatException naming the file, for malformed JSON, another
   *     model_type or an invalid value
   */
  public static BertConfig fromJson(Path file) throws IOException {
    return ModelConfigs.readBert(file);
  }

  /** This config with another vocabulary size (the tokenizer's). */
  public BertConfig withVocabSize(int newVocabSize) {
    return new BertConfig(newVocabSize, hiddenSize, numHiddenLayers, numAttentionHeads,
        intermediateSize, hiddenAct, hiddenDropoutProb, attentionProbsDropoutProb,
        maxPositionEmbeddings, typeVocabSize, initializerRange, layerNormEps, padTokenId,
        positionEmbeddingType, tieWordEmbeddings, modelType, initializer);
  }

  /** This config with another pad_token_id (the tokenizer's padding token). */
  public BertConfig withPadTokenId(Integer newPadTokenId) {
    return new BertConfig(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads,
        intermediateSize, hiddenAct, hiddenDropoutProb, attentionProbsDropoutProb,
        maxPositionEmbeddings, typeVocabSize, initializerRange, layerNormEps, newPadTokenId,
        positionEmbeddingType, tieWordEmbeddings, modelType, initializer);
  }

  /** This config with another model_type: "bert" or "roberta-prelayernorm" (pre-LN layers). */
  public BertConfig withModelType(String newModelType) {
    return new BertConfig(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads,
        intermediateSize, hiddenAct, hiddenDropoutProb, attentionProbsDropoutProb,
        maxPositionEmbeddings, typeVocabSize, initializerRange, layerNormEps, padTokenId,
        positionEmbeddingType, tieWordEmbeddings, newModelType, initializer);
  }

  /** This config with the output projection tied to the word embeddings, or with a weight of its own. */
  public BertConfig withTieWordEmbeddings(boolean tie) {
    return new BertConfig(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads,
        intermediateSize, hiddenAct, hiddenDropoutProb, attentionProbsDropoutProb,
        maxPositionEmbeddings, typeVocabSize, initializerRange, layerNormEps, padTokenId,
        positionEmbeddingType, tie, modelType, initializer);
  }

  /** This config with another initialisation scheme. */
  public BertConfig withInitializer(InitScheme scheme) {
    return new BertConfig(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads,
        intermediateSize, hiddenAct, hiddenDropoutProb, attentionProbsDropoutProb,
        maxPositionEmbeddings, typeVocabSize, initializerRange, layerNormEps, padTokenId,
        positionEmbeddingType, tieWordEmbeddings, modelType, scheme.key());
  }

  /** Whether the encoder layers are pre-LN (model_type "roberta-prelayernorm"). */
  public boolean preLayerNorm() {
    return PRE_LAYER_NORM_MODEL_TYPE.equals(modelType);
  }

  /** The initialisation scheme of {@link #initializer()}. */
  public InitScheme initScheme() {
    return InitScheme.parse(initializer);
  }

  /** The activation of the feed-forward layers and of the prediction head transform. */
  public GeluKind geluKind() {
    return GeluKind.fromHfName(hiddenAct);
  }

  /** Size of one attention head: hidden_size / num_attention_heads. */
  public int headDim() {
    return hiddenSize / numAttentionHeads;
  }

  @Override
  public String architecture() {
    return preLayerNorm() ? "RobertaPreLayerNormForMaskedLM" : "BertForMaskedLM";
  }

  /**
   * The longest sequence: max_position_embeddings, or for pre-LN max_position_embeddings -
   * pad_token_id - 1, as RoBERTa's position ids of a sequence's tokens count from pad_token_id + 1.
   */
  @Override
  public int maxPositions() {
    return preLayerNorm() ? maxPositionEmbeddings - padTokenId - 1 : maxPositionEmbeddings;
  }
}
