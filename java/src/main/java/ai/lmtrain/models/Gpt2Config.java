package ai.lmtrain.models;

import static ai.lmtrain.models.ModelConfigs.requireDivisible;
import static ai.lmtrain.models.ModelConfigs.requireProbability;
import static ai.lmtrain.models.ModelConfigs.requirePositive;
import static ai.lmtrain.models.ModelConfigs.requireSize;
import static ai.lmtrain.models.ModelConfigs.requireTensor;

import ai.lmtrain.tensor.GeluKind;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Hyper-parameters of a GPT-2 causal language model, as in HF {@code GPT2Config}; each component
 * is one config.json key. Missing keys take HF's defaults (those of {@link #gpt2Small()}); unknown
 * keys (n_ctx, summary_*, ...) are ignored. The constructor rejects values the model cannot run.
 *
 * @param vocabSize vocab_size: token ids in [0, vocab_size)
 * @param nPositions n_positions: longest sequence
 * @param nEmbd n_embd E
 * @param nLayer n_layer
 * @param nHead n_head; divides E
 * @param nInner n_inner, the MLP width; null means 4 * n_embd
 * @param activationFunction activation_function: "gelu_new" (tanh) or "gelu", see {@link GeluKind}
 * @param residPdrop resid_pdrop, in [0, 1)
 * @param embdPdrop embd_pdrop, in [0, 1)
 * @param attnPdrop attn_pdrop, in [0, 1)
 * @param layerNormEpsilon layer_norm_epsilon
 * @param initializerRange initializer_range: std of the normal weight init
 * @param scaleAttnWeights scale_attn_weights; must be true (scores divided by sqrt(head dim))
 * @param scaleAttnByInverseLayerIdx scale_attn_by_inverse_layer_idx; must be false
 * @param bosTokenId bos_token_id, or null; may lie outside the vocabulary (see {@link #idsOutsideVocabulary})
 * @param eosTokenId eos_token_id, or null; generation stops there (never, when outside the vocabulary)
 * @param tieWordEmbeddings tie_word_embeddings; lm_head always shares wte
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Gpt2Config(
    @JsonProperty("vocab_size") int vocabSize,
    @JsonProperty("n_positions") int nPositions,
    @JsonProperty("n_embd") int nEmbd,
    @JsonProperty("n_layer") int nLayer,
    @JsonProperty("n_head") int nHead,
    @JsonProperty("n_inner") Integer nInner,
    @JsonProperty("activation_function") String activationFunction,
    @JsonProperty("resid_pdrop") double residPdrop,
    @JsonProperty("embd_pdrop") double embdPdrop,
    @JsonProperty("attn_pdrop") double attnPdrop,
    @JsonProperty("layer_norm_epsilon") double layerNormEpsilon,
    @JsonProperty("initializer_range") double initializerRange,
    @JsonProperty("scale_attn_weights") boolean scaleAttnWeights,
    @JsonProperty("scale_attn_by_inverse_layer_idx") boolean scaleAttnByInverseLayerIdx,
    @JsonProperty("bos_token_id") Integer bosTokenId,
    @JsonProperty("eos_token_id") Integer eosTokenId,
    @JsonProperty("tie_word_embeddings") boolean tieWordEmbeddings)
    implements ModelConfig {

  /** HF's {@code model_type} for GPT-2. */
  public static final String MODEL_TYPE = "gpt2";

  /**
   * Validates every value.
   *
   * @throws IllegalArgumentException naming the config.json key and what was expected
   */
  public Gpt2Config {
    requireSize("vocab_size", vocabSize, ModelConfigs.MAX_VOCAB);
    requireSize("n_positions", nPositions, ModelConfigs.MAX_POSITIONS);
    requireSize("n_embd", nEmbd, ModelConfigs.MAX_HIDDEN);
    requireSize("n_layer", nLayer, ModelConfigs.MAX_LAYERS);
    requirePositive("n_head", nHead);
    requireDivisible("n_embd", nEmbd, "n_head", nHead);
    if (nInner != null) {
      requireSize("n_inner", nInner, ModelConfigs.MAX_INNER);
    }
    requireTensor("transformer.wte.weight", "vocab_size", vocabSize, "n_embd", nEmbd);
    requireTensor("transformer.wpe.weight", "n_positions", nPositions, "n_embd", nEmbd);
    requireTensor("attn.c_attn.weight", "n_embd", nEmbd, "3 x n_embd", 3L * nEmbd);
    requireTensor("mlp.c_fc.weight", "n_embd", nEmbd, nInner != null ? "n_inner" : "4 x n_embd",
        nInner != null ? nInner : 4L * nEmbd);
    ModelConfigs.requireActivation("activation_function", activationFunction);
    requireProbability("resid_pdrop", residPdrop);
    requireProbability("embd_pdrop", embdPdrop);
    requireProbability("attn_pdrop", attnPdrop);
    requirePositive("layer_norm_epsilon", layerNormEpsilon);
    requirePositive("initializer_range", initializerRange);
    if (!scaleAttnWeights) {
      throw new IllegalArgumentException("scale_attn_weights false is not supported (expected true)");
    }
    if (scaleAttnByInverseLayerIdx) {
      throw new IllegalArgumentException(
          "scale_attn_by_inverse_layer_idx true is not supported (expected false)");
    }
    // bos/eos outside the vocabulary are kept, as transformers keeps them (see idsOutsideVocabulary).
    ModelConfigs.requireTied(tieWordEmbeddings);
  }

  /** GPT-2 small (124M), which equals HF's GPT2Config defaults: 12 layers, E 768, 12 heads, 1024 positions. */
  public static Gpt2Config gpt2Small() {
    return new Gpt2Config(50257, 1024, 768, 12, 12, null, "gelu_new", 0.1, 0.1, 0.1, 1e-5, 0.02,
        true, false, 50256, 50256, true);
  }

  /**
   * A tiny GPT-2 for tests and quick experiments: 2 layers, E 128, 2 heads (head dim 64), 64
   * positions, otherwise GPT-2 small values. bos/eos are unset; set them with {@link
   * #withSpecialTokens} once the tokenizer's end-of-text id is known.
   */
  public static Gpt2Config tiny(int vocabSize) {
    return new Gpt2Config(vocabSize, 64, 128, 2, 2, null, "gelu_new", 0.1, 0.1, 0.1, 1e-5, 0.02,
        true, false, null, null, true);
  }

  /**
   * Reads an HF config.json; missing keys take HF's defaults, unknown keys are ignored.
   *
   * @throws ai.lmtrain.io.FileFormatException naming the file, for malformed JSON, a model_type
   *     other than "gpt2" or an invalid value
   */
  public static Gpt2Config fromJson(Path file) throws IOException {
    return ModelConfigs.read(file, gpt2Small());
  }

  /** This config with another vocabulary size (the tokenizer's). */
  public Gpt2Config withVocabSize(int newVocabSize) {
    return new Gpt2Config(newVocabSize, nPositions, nEmbd, nLayer, nHead, nInner,
        activationFunction, residPdrop, embdPdrop, attnPdrop, layerNormEpsilon, initializerRange,
        scaleAttnWeights, scaleAttnByInverseLayerIdx, bosTokenId, eosTokenId, tieWordEmbeddings);
  }

  /** This config with other bos/eos ids (null unsets). */
  public Gpt2Config withSpecialTokens(Integer newBosTokenId, Integer newEosTokenId) {
    return new Gpt2Config(vocabSize, nPositions, nEmbd, nLayer, nHead, nInner,
        activationFunction, residPdrop, embdPdrop, attnPdrop, layerNormEpsilon, initializerRange,
        scaleAttnWeights, scaleAttnByInverseLayerIdx, newBosTokenId, newEosTokenId, tieWordEmbeddings);
  }

  /**
   * The bos/eos ids that are not tokens of this vocabulary, e.g. "bos_token_id 50256, eos_token_id
   * 50256", or null when there are none. transformers' GPT2Config keeps its defaults 50256 for any
   * vocab_size, so a small GPT-2 saved by transformers has them; transformers loads and runs it (the
   * ids serve only generation, which then has no end-of-text id to stop at), and so does lmtrain.
   */
  public String idsOutsideVocabulary() {
    List<String> outside = new ArrayList<>();
    if (outsideVocabulary(bosTokenId)) {
      outside.add("bos_token_id " + bosTokenId);
    }
    if (outsideVocabulary(eosTokenId)) {
      outside.add("eos_token_id " + eosTokenId);
    }
    return outside.isEmpty() ? null : String.join(", ", outside);
  }

  /** Whether {@code id} is set and not a token of this vocabulary, [0, vocab_size). */
  public boolean outsideVocabulary(Integer id) {
    return id != null && (id < 0 || id >= vocabSize);
  }

  /** The MLP width: n_inner, or 4 * n_embd when n_inner is null. */
  public int innerSize() {
    return nInner != null ? nInner : 4 * nEmbd;
  }

  /** The MLP activation. */
  public GeluKind geluKind() {
    return GeluKind.fromHfName(activationFunction);
  }

  /** Size of one attention head: n_embd / n_head. */
  public int headDim() {
    return nEmbd / nHead;
  }

  @Override
  public String modelType() {
    return MODEL_TYPE;
  }

  @Override
  public String architecture() {
    return "GPT2LMHeadModel";
  }

  @Override
  public int maxPositions() {
    return nPositions;
  }
}
