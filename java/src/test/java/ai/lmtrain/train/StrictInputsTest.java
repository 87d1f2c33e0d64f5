package ai.lmtrain.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.io.FileFormatException;
import ai.lmtrain.models.Gpt2Config;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.ModelConfigs;
import ai.lmtrain.models.TinyModels;
import ai.lmtrain.tensor.CountingCpuBackend;
import ai.lmtrain.tensor.CpuBackendTest;
import ai.lmtrain.tensor.DType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crafted or tampered files fail with one message naming the file and the key, before anything is
 * allocated for them: config.json against the weights' header and the device's memory, config
 * values (no string for a number, no duplicate key, sane sizes), and trainer_state.json's fields.
 */
class StrictInputsTest extends CpuBackendTest {

  /** A saved tiny GPT-2 folder whose config.json was then edited by {@code edit}. */
  private static Path folderWithConfig(Path dir, Consumer<ObjectNode> edit) throws Exception {
    try (LanguageModel model = TinyModels.gpt2(backend, 5)) {
      Checkpoints.saveModel(dir, model, null);
    }
    Path config = dir.resolve(ModelConfigs.CONFIG_FILE);
    ObjectNode json = (ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper().readTree(config.toFile());
    edit.accept(json);
    Files.writeString(config, json.toPrettyString());
    return dir;
  }

  private static String loadError(Path dir, CountingCpuBackend counting) {
    Exception e = assertThrows(Exception.class, () -> Checkpoints.loadModel(dir, counting, DType.F32).close());
    assertEquals(0, counting.allocatedBytes(), "nothing may be allocated before the error: " + e.getMessage());
    return e.getMessage();
  }

  @Test
  void aConfigThatDoesNotMatchTheWeightsFailsBeforeAllocating(@TempDir Path tmp) throws Exception {
    try (CountingCpuBackend counting = new CountingCpuBackend()) {
      // The 99 KB folder whose config.json says n_layer 100000 (10.7 GB RSS before its error).
      String deep = loadError(folderWithConfig(tmp.resolve("deep"), c -> c.put("n_layer", 100000)), counting);
      assertTrue(deep.contains("config.json") && deep.contains("n_layer 100000 is above the limit of 4096"), deep);
      String layers = loadError(folderWithConfig(tmp.resolve("layers"), c -> c.put("n_layer", 3000)), counting);
      assertTrue(layers.startsWith(tmp.resolve("layers/model.safetensors") + ": missing ")
          && layers.contains("describes"), layers);
      String inner = loadError(folderWithConfig(tmp.resolve("inner"), c -> c.put("n_inner", 48)), counting);
      assertTrue(inner.contains("mlp.c_fc.bias' has shape [64] but config.json needs [48]"), inner);
      String vocab = loadError(folderWithConfig(tmp.resolve("vocab"), c -> c.put("vocab_size", 16_000_000)
          .put("n_embd", 768).put("n_head", 12)), counting);
      assertTrue(vocab.contains("transformer.wte.weight would be vocab_size 16000000 x n_embd 768"), vocab);
      String huge = loadError(folderWithConfig(tmp.resolve("huge"), c -> c.put("n_layer", 4096).put("n_embd", 8192)
          .put("n_head", 64)), counting);
      assertTrue(huge.contains("config.json") && huge.contains("n_layer 4096") && huge.contains("GiB of cpu"), huge);
    }
  }

  @Test
  void configValuesAreNotCoercedAndKeysAreNotDuplicated(@TempDir Path tmp) throws Exception {
    Path dir = folderWithConfig(tmp.resolve("m"), c -> { });
    Path config = dir.resolve(ModelConfigs.CONFIG_FILE);
    String text = Files.readString(config);

    Files.writeString(config, text.replace("\"n_embd\" : 16", "\"n_embd\": \"16\""));
    FileFormatException string = assertThrows(FileFormatException.class, () -> ModelConfigs.read(dir));
    assertTrue(string.getMessage().startsWith(config + ": ") && string.getMessage().contains("'n_embd'"),
        string.getMessage());

    Files.writeString(config, text.replace("\"n_embd\" : 16", "\"n_embd\": 1e9"));
    FileFormatException floating = assertThrows(FileFormatException.class, () -> ModelConfigs.read(dir));
    assertTrue(floating.getMessage().contains("'n_embd'") && !floating.getMessage().contains("294967296"),
        floating.getMessage());

    Files.writeString(config, text.replace("\"n_embd\" : 16", "\"n_embd\": 16, \"n_embd\": 32"));
    FileFormatException twice = assertThrows(FileFormatException.class, () -> ModelConfigs.read(dir));
    assertTrue(twice.getMessage().contains("duplicate key") && twice.getMessage().contains("n_embd"),
        twice.getMessage());

    Files.writeString(config, text.replace("\"layer_norm_epsilon\" : 1.0E-5", "\"layer_norm_epsilon\": 1e999"));
    FileFormatException infinite = assertThrows(FileFormatException.class, () -> ModelConfigs.read(dir));
    assertTrue(infinite.getMessage().contains("layer_norm_epsilon must be a positive finite number"),
        infinite.getMessage());
    Gpt2Config ok = Gpt2Config.tiny(10);
    assertEquals(ok, ModelConfigs.merge(ok, new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode(), config));
  }

  @Test
  void aTamperedTrainerStateNamesTheFileAndTheField(@TempDir Path tmp) throws Exception {
    Path state = tmp.resolve(Checkpoints.STATE_FILE);
    String valid = """
        {"global_step": 6, "max_steps": 12, "loader": {"epoch": 1, "position": 0, "rng_state": -5},
         "micro_batches": 6, "tokens_seen": 700, "loss_scale": 1.0, "clean_steps": 0,
         "best_eval_loss": 5.2, "best_step": 6, "training_args": {"seed": 42}}""";
    Files.writeString(state, valid);
    assertEquals(6, Checkpoints.readState(tmp).state().globalStep());
    String[][] cases = {
        {"\"global_step\": 6", "\"global_step\": \"abc\"", "field 'global_step' must be an integer in [0, 12], got the"
            + " string \"abc\""},
        {"\"global_step\": 6", "\"global_step\": 1000000000000", "field 'global_step' must be an integer in [0, 12]"},
        {"\"loss_scale\": 1.0", "\"loss_scale\": \"NaN\"", "field 'loss_scale' must be a finite number"},
        {"\"loss_scale\": 1.0", "\"loss_scale\": 0", "field 'loss_scale' must be a finite number"},
        {"\"position\": 0", "\"position\": -1", "field 'loader.position' must be an integer"},
        {"\"best_step\": 6", "\"best_step\": 9", "field 'best_step' must be an integer in [-1, 6]"},
        {"\"seed\": 42", "\"seed\": 42, \"bogus\": 1", "field 'training_args' has unknown key(s) [bogus]"},
        {"\"clean_steps\": 0", "\"clean_steps\": 0, \"clean_steps\": 1", "duplicate key"},
        {"\"tokens_seen\": 700,", "", "missing field 'tokens_seen'"},
    };
    for (String[] c : cases) {
      Files.writeString(state, valid.replace(c[0], c[1]));
      FileFormatException e = assertThrows(FileFormatException.class, () -> Checkpoints.readState(tmp), c[1]);
      assertTrue(e.getMessage().startsWith(state + ": ") && e.getMessage().contains(c[2]), e.getMessage());
    }
    Files.writeString(state, "garbage");
    FileFormatException garbage = assertThrows(FileFormatException.class, () -> Checkpoints.readState(tmp));
    assertTrue(garbage.getMessage().startsWith(state + ": not valid JSON"), garbage.getMessage());
  }

  @Test
  void bf16AndFp16TogetherAreRejected() {
    var json = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("bf16", true).put("fp16", true);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainingArguments.defaults().with(json, new java.util.ArrayList<>()));
    assertTrue(e.getMessage().contains("[bf16, fp16] each choose a precision"), e.getMessage());
  }
}
