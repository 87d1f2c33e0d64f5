package ai.lmtrain.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.io.FileFormatException;
import ai.lmtrain.tensor.GeluKind;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigsTest {
  @TempDir Path dir;

  /** config.json of bert-base-uncased on the HF hub. */
  private static final String HUB_BERT = """
      {
        "architectures": ["BertForMaskedLM"],
        "attention_probs_dropout_prob": 0.1,
        "gradient_checkpointing": false,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": 768,
        "initializer_range": 0.02,
        "intermediate_size": 3072,
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": 512,
        "model_type": "bert",
        "num_attention_heads": 12,
        "num_hidden_layers": 12,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "transformers_version": "4.6.0.dev0",
        "type_vocab_size": 2,
        "use_cache": true,
        "vocab_size": 30522
      }
      """;

  /** config.json of gpt2 on the HF hub (note n_ctx and summary_* keys, and no n_inner). */
  private static final String HUB_GPT2 = """
      {
        "activation_function": "gelu_new",
        "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.1,
        "bos_token_id": 50256,
        "embd_pdrop": 0.1,
        "eos_token_id": 50256,
        "initializer_range": 0.02,
        "layer_norm_epsilon": 1e-05,
        "model_type": "gpt2",
        "n_ctx": 1024,
        "n_embd": 768,
        "n_head": 12,
        "n_layer": 12,
        "n_positions": 1024,
        "resid_pdrop": 0.1,
        "summary_activation": null,
        "summary_first_dropout": 0.1,
        "summary_proj_to_labels": true,
        "summary_type": "cls_index",
        "summary_use_proj": true,
        "task_specific_params": {"text-generation": {"do_sample": true, "max_length": 50}},
        "vocab_size": 50257
      }
      """;

  @Test
  void readsTheHubConfigsAsTheNamedFactories() throws IOException {
    assertEquals(BertConfig.bertBase(), BertConfig.fromJson(write("bert.json", HUB_BERT)));
    assertEquals(Gpt2Config.gpt2Small(), Gpt2Config.fromJson(write("gpt2.json", HUB_GPT2)));
  }

  @Test
  void dispatchesOnModelTypeFromACheckpointFolder() throws IOException {
    Path bertDir = Files.createDirectory(dir.resolve("bert"));
    Files.writeString(bertDir.resolve(ModelConfigs.CONFIG_FILE), HUB_BERT);
    Path gptDir = Files.createDirectory(dir.resolve("gpt2"));
    Files.writeString(gptDir.resolve(ModelConfigs.CONFIG_FILE), HUB_GPT2);
    assertInstanceOf(BertConfig.class, ModelConfigs.read(bertDir));
    assertInstanceOf(Gpt2Config.class, ModelConfigs.read(gptDir));
    assertInstanceOf(Gpt2Config.class, ModelConfigs.read(gptDir.resolve(ModelConfigs.CONFIG_FILE)));
  }

  @Test
  void missingKeysTakeHfDefaults() throws IOException {
    Gpt2Config gpt = Gpt2Config.fromJson(write("g.json", "{\"model_type\": \"gpt2\", \"n_layer\": 2}"));
    assertEquals(2, gpt.nLayer());
    assertEquals(768, gpt.nEmbd());
    assertNull(gpt.nInner());
    assertEquals(3072, gpt.innerSize());
    assertEquals(1e-5, gpt.layerNormEpsilon());
    assertTrue(gpt.tieWordEmbeddings());
    BertConfig bert = BertConfig.fromJson(write("b.json", "{\"hidden_size\": 256, \"num_attention_heads\": 4}"));
    assertEquals(BertConfig.bertBase().vocabSize(), bert.vocabSize());
    assertEquals(64, bert.headDim());
    assertEquals(GeluKind.EXACT, bert.geluKind());
  }

  @Test
  void writesTheFullHfConfigWithSortedKeys() throws IOException {
    JsonNode bert = new ObjectMapper().readTree(BertConfig.tiny(1000).toJson());
    assertEquals(List.of("architectures", "attention_probs_dropout_prob", "hidden_act",
        "hidden_dropout_prob", "hidden_size", "initializer", "initializer_range", "intermediate_size",
        "layer_norm_eps", "max_position_embeddings", "model_type", "num_attention_heads",
        "num_hidden_layers", "pad_token_id", "position_embedding_type", "tie_word_embeddings",
        "torch_dtype", "transformers_version", "type_vocab_size", "vocab_size"), keys(bert));
    assertEquals("bert", bert.get("model_type").asText());
    assertEquals("BertForMaskedLM", bert.get("architectures").get(0).asText());
    assertEquals("float32", bert.get("torch_dtype").asText());
    assertEquals(1000, bert.get("vocab_size").asInt());
    assertEquals(1e-12, bert.get("layer_norm_eps").asDouble());

    String gptText = Gpt2Config.gpt2Small().toJson();
    assertTrue(gptText.startsWith("{\n  \"activation_function\": \"gelu_new\",\n"
        + "  \"architectures\": [\n    \"GPT2LMHeadModel\"\n  ],\n"), gptText);
    assertTrue(gptText.contains("\n  \"n_inner\": null,\n"), gptText);
    assertTrue(gptText.endsWith("}\n"));
    JsonNode gpt = new ObjectMapper().readTree(gptText);
    assertEquals(List.of("activation_function", "architectures", "attn_pdrop", "bos_token_id",
        "embd_pdrop", "eos_token_id", "initializer", "initializer_range", "layer_norm_epsilon", "model_type",
        "n_embd", "n_head", "n_inner", "n_layer", "n_positions", "resid_pdrop",
        "scale_attn_by_inverse_layer_idx", "scale_attn_weights", "tie_word_embeddings",
        "torch_dtype", "transformers_version", "vocab_size"), keys(gpt));
  }

  @Test
  void roundTripsThroughConfigJson() throws IOException {
    List<ModelConfig> configs = List.of(BertConfig.bertBase(), BertConfig.tiny(99),
        Gpt2Config.gpt2Small(), Gpt2Config.tiny(300).withSpecialTokens(0, 0),
        new Gpt2Config(500, 32, 64, 1, 4, 100, "gelu", 0, 0, 0, 1e-6, 0.01, true, false, null, 499, true),
        Gpt2Config.tiny(300).withTieWordEmbeddings(false).withInitializer(InitScheme.PYTORCH),
        BertConfig.tiny(99).withTieWordEmbeddings(false).withModelType(BertConfig.PRE_LAYER_NORM_MODEL_TYPE));
    for (ModelConfig config : configs) {
      Path file = dir.resolve("config.json");
      config.writeJson(file);
      assertEquals(config, ModelConfigs.read(file));
    }
  }

  /** config.json of andreasmadsen/efficient_mlm_m0.30 on the HF hub (refs/pr/1), a RobertaPreLayerNormForMaskedLM. */
  private static final String HUB_PRE_LN = """
      {
        "_name_or_path": "/tmp/andreasmadsen/efficient_mlm_m0.30",
        "architectures": ["RobertaPreLayerNormForMaskedLM"],
        "attention_probs_dropout_prob": 0.1,
        "bos_token_id": 0,
        "classifier_dropout": null,
        "eos_token_id": 2,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": 1024,
        "initializer_range": 0.02,
        "intermediate_size": 4096,
        "layer_norm_eps": 1e-05,
        "max_position_embeddings": 514,
        "model_type": "roberta-prelayernorm",
        "num_attention_heads": 16,
        "num_hidden_layers": 24,
        "pad_token_id": 1,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        "transformers_version": "4.25.0.dev0",
        "type_vocab_size": 1,
        "use_cache": true,
        "vocab_size": 50265
      }
      """;

  @Test
  void readsPreLayerNormConfigsWithRobertasPositionRange(@TempDir Path tmp) throws IOException {
    Path folder = Files.createDirectory(tmp.resolve("preln"));
    Files.writeString(folder.resolve(ModelConfigs.CONFIG_FILE), HUB_PRE_LN);
    BertConfig c = (BertConfig) ModelConfigs.read(folder);
    assertTrue(c.preLayerNorm());
    assertEquals("roberta-prelayernorm", c.modelType());
    assertEquals("RobertaPreLayerNormForMaskedLM", c.architecture());
    assertEquals(1e-5, c.layerNormEps());
    assertEquals(1, c.typeVocabSize());
    assertEquals(24, c.numHiddenLayers());
    assertEquals(512, c.maxPositions(), "positions 2..513 of 514: pad_token_id 1, then 512 tokens");
    assertEquals(c, BertConfig.fromJson(folder.resolve(ModelConfigs.CONFIG_FILE)));
    // missing keys take RobertaPreLayerNormConfig's defaults, not bert-base's
    Path sparse = write("sparse.json", "{\"model_type\": \"roberta-prelayernorm\", \"num_hidden_layers\": 2}");
    BertConfig defaults = BertConfig.fromJson(sparse);
    assertEquals(1, defaults.padTokenId());
    assertEquals(50265, defaults.vocabSize());
    assertEquals(510, defaults.maxPositions());
    Path back = tmp.resolve("back.json");
    c.writeJson(back);
    assertEquals(c, ModelConfigs.read(back));
    assertFalse(BertConfig.bertBase().preLayerNorm());
    assertEquals(512, BertConfig.bertBase().maxPositions());
  }

  @Test
  void preLayerNormConfigsNeedAPaddingId() {
    assertInvalid(() -> BertConfig.bertBase().withPadTokenId(null).withModelType("roberta-prelayernorm"),
        "a roberta-prelayernorm model needs pad_token_id (its position ids count from pad_token_id + 1)");
    assertInvalid(() -> BertConfig.tiny(100).withPadTokenId(63).withModelType("roberta-prelayernorm"),
        "max_position_embeddings 64 leaves no position for a roberta-prelayernorm model");
    assertInvalid(() -> BertConfig.tiny(100).withModelType("roberta"), "model_type 'roberta' is not a BERT type");
  }

  @Test
  void tinyFactoriesHaveTheDocumentedShapes() {
    BertConfig bert = BertConfig.tiny(512);
    assertEquals(List.of(512, 2, 128, 2, 512, 64), List.of(bert.vocabSize(), bert.numHiddenLayers(),
        bert.hiddenSize(), bert.numAttentionHeads(), bert.intermediateSize(), bert.maxPositions()));
    Gpt2Config gpt = Gpt2Config.tiny(512);
    assertEquals(List.of(512, 2, 128, 2, 512, 64), List.of(gpt.vocabSize(), gpt.nLayer(),
        gpt.nEmbd(), gpt.nHead(), gpt.innerSize(), gpt.maxPositions()));
    assertEquals(GeluKind.TANH, gpt.geluKind());
    assertEquals(1000, gpt.withVocabSize(1000).vocabSize());
  }

  @Test
  void invalidValuesGiveOneClearMessageNamingTheKey() {
    assertInvalid(() -> new BertConfig(100, 100, 2, 3, 400, "gelu", 0.1, 0.1, 64, 2, 0.02, 1e-12, 0,
        "absolute", true), "hidden_size 100 is not divisible by num_attention_heads 3");
    assertInvalid(() -> new BertConfig(100, 128, 0, 2, 400, "gelu", 0.1, 0.1, 64, 2, 0.02, 1e-12, 0,
        "absolute", true), "num_hidden_layers must be positive, got 0");
    assertInvalid(() -> new BertConfig(100, 128, 2, 2, 400, "relu", 0.1, 0.1, 64, 2, 0.02, 1e-12, 0,
        "absolute", true), "hidden_act: unsupported activation 'relu'");
    assertInvalid(() -> new BertConfig(100, 128, 2, 2, 400, "gelu", 1.0, 0.1, 64, 2, 0.02, 1e-12, 0,
        "absolute", true), "hidden_dropout_prob must be in [0, 1), got 1.0");
    assertInvalid(() -> new BertConfig(100, 128, 2, 2, 400, "gelu", 0.1, 0.1, 64, 2, 0.02, 1e-12, 0,
        "relative_key", true), "position_embedding_type 'relative_key' is not supported");
    assertInvalid(() -> new BertConfig(100, 128, 2, 2, 400, "gelu", 0.1, 0.1, 64, 2, 0.02, 1e-12, 100,
        "absolute", true), "pad_token_id 100 is outside the vocabulary [0, 100)");
    assertInvalid(() -> new BertConfig(100, 128, 2, 2, 400, "gelu", 0.1, 0.1, 64, 2, 0.02, 0, 0,
        "absolute", true), "layer_norm_eps must be a positive finite number, got 0.0");
    assertInvalid(() -> BertConfig.tiny(-5), "vocab_size must be positive, got -5");
    assertInvalid(() -> new Gpt2Config(100, 64, 128, 2, 2, null, "gelu_new", 0.1, 0.1, 0.1, 1e-5,
        0.02, true, true, null, null, true), "scale_attn_by_inverse_layer_idx true is not supported");
    assertInvalid(() -> new Gpt2Config(100, 64, 128, 2, 2, 0, "gelu_new", 0.1, 0.1, 0.1, 1e-5,
        0.02, true, false, null, null, true), "n_inner must be positive, got 0");
  }

  @Test
  void badFilesNameTheFileAndTheProblem() throws IOException {
    assertBadFile(() -> ModelConfigs.read(write("llama.json", "{\"model_type\": \"llama\"}")),
        "unsupported model_type 'llama' (expected \"bert\", \"roberta-prelayernorm\" or \"gpt2\")");
    assertBadFile(() -> ModelConfigs.read(write("none.json", "{\"vocab_size\": 5}")), "missing string 'model_type'");
    assertBadFile(() -> ModelConfigs.read(write("broken.json", "{\"model_type\": \"bert\",")), "not valid JSON");
    assertBadFile(() -> ModelConfigs.read(write("array.json", "[]")), "expected a JSON object");
    assertBadFile(() -> BertConfig.fromJson(write("gpt.json", HUB_GPT2)),
        "model_type is 'gpt2' but a 'bert' config was expected");
    assertBadFile(() -> ModelConfigs.read(write("heads.json",
        "{\"model_type\": \"gpt2\", \"n_embd\": 100, \"n_head\": 3}")),
        "invalid gpt2 config: n_embd 100 is not divisible by n_head 3");
    assertBadFile(() -> ModelConfigs.read(write("type.json", "{\"model_type\": \"bert\", \"hidden_size\": \"big\"}")),
        "invalid bert config: invalid value for 'hidden_size'");
    assertBadFile(() -> ModelConfigs.read(write("fraction.json", "{\"model_type\": \"bert\", \"hidden_size\": 768.5}")),
        "hidden_size");
  }

  private Path write(String name, String text) throws IOException {
    return Files.writeString(dir.resolve(name), text);
  }

  private static List<String> keys(JsonNode node) {
    List<String> keys = new ArrayList<>();
    node.fieldNames().forEachRemaining(keys::add);
    return keys;
  }

  private static void assertInvalid(Runnable construct, String message) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, construct::run);
    assertTrue(e.getMessage().contains(message), "expected '" + message + "' in: " + e.getMessage());
  }

  private interface IoAction {
    void run() throws IOException;
  }

  private static void assertBadFile(IoAction action, String message) {
    FileFormatException e = assertThrows(FileFormatException.class, action::run);
    assertTrue(e.getMessage().contains(e.file().toString() + ": "), e.getMessage());
    assertTrue(e.getMessage().contains(message), "expected '" + message + "' in: " + e.getMessage());
  }
}
