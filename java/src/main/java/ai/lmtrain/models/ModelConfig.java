package ai.lmtrain.models;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A model architecture's hyper-parameters, stored as Hugging Face {@code config.json}. The
 * implementations are records whose components map 1:1 to the HF keys.
 */
public sealed interface ModelConfig permits BertConfig, Gpt2Config {
  /** The HF {@code model_type}: "bert", "roberta-prelayernorm" (pre-LN BERT) or "gpt2". */
  String modelType();

  /** The HF {@code architectures} entry this project's model matches. */
  String architecture();

  /** Number of token ids the embedding covers. */
  int vocabSize();

  /** Longest sequence the position embeddings cover. */
  int maxPositions();

  /**
   * The full HF config.json text: every component, plus model_type, architectures,
   * torch_dtype "float32" and transformers_version; keys sorted, 2-space indent, as transformers
   * writes it.
   */
  default String toJson() {
    return ModelConfigs.toJson(this);
  }

  /** Writes {@link #toJson()} to {@code file} atomically. */
  default void writeJson(Path file) throws IOException {
    ModelConfigs.writeJson(this, file);
  }
}
