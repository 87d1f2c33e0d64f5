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
 * @param tieWordEmbeddings tie_word_embeddings; the decoder always shares the word embeddings
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
    @JsonProperty("tie_word_embeddings") boolean tieWordEmbeddings)
    implements ModelConfig {

  /** HF's {@code model_type} for BERT. */
  public static final String MODEL_TYPE = "bert";

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
    ModelConfigs.requireTied(tieWordEmbeddings);
  }

  /** bert-base-uncased, which equals HF's BertConfig defaults: 12 layers, H 768, 12 heads, I 3072. */
  public static BertConfig bertBase() {
    return new BertConfig(30522, 768, 12, 12, 3072, "gelu", 0.1, 0.1, 512, 2, 0.02, 1e-12, 0,
        "absolute", true);
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
   * Reads an HF config.json; missing keys take HF's defaults, unknown keys are ignored.
   *
   * @throws ai.lmtrain.io.FileFormatException naming the file, for malformed JSON, a model_type
   *     other than "bert" or an invalid value
   */
  public static BertConfig fromJson(Path file) throws IOException {
    return ModelConfigs.read(file, bertBase());
  }

  /** This config with another vocabulary size (the tokenizer's). */
  public BertConfig withVocabSize(int newVocabSize) {
    return new BertConfig(newVocabSize, hiddenSize, numHiddenLayers, numAttentionHeads,
        intermediateSize, hiddenAct, hiddenDropoutProb, attentionProbsDropoutProb,
        maxPositionEmbeddings, typeVocabSize, initializerRange, layerNormEps, padTokenId,
        positionEmbeddingType, tieWordEmbeddings);
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
  public String modelType() {
    return MODEL_TYPE;
  }

  @Override
  public String architecture() {
    return "BertForMaskedLM";
  }

  @Override
  public int maxPositions() {
    return maxPositionEmbeddings;
  }
}
