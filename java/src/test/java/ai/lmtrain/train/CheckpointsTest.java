package ai.lmtrain.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.io.FileFormatException;
import ai.lmtrain.io.SafeTensors;
import ai.lmtrain.io.SafeTensorsFile;
import ai.lmtrain.io.TensorData;
import ai.lmtrain.models.BertConfig;
import ai.lmtrain.models.BertForMaskedLM;
import ai.lmtrain.models.BertForPreTraining;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.TinyModels;
import ai.lmtrain.tensor.CpuBackendTest;
import ai.lmtrain.tensor.DType;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Model folders: Hugging Face naming variants load into the same weights (no "transformer."/"bert."
 * prefix, legacy gamma/beta, tied keys present or absent, buffers such as attn.bias), and broken
 * folders fail with one clear message.
 */
class CheckpointsTest extends CpuBackendTest {

  /** Saves {@code model}, then rewrites its weights file with renamed keys and extra tensors. */
  private static Path variant(Path dir, LanguageModel model, UnaryOperator<String> rename, Map<String, TensorData> extra)
      throws Exception {
    Checkpoints.saveModel(dir, model, null);
    SafeTensorsFile saved = SafeTensors.read(dir.resolve(Checkpoints.WEIGHTS_FILE));
    Map<String, TensorData> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, TensorData> e : saved.tensors().entrySet()) {
      float[] values = e.getValue().toFloats();
      tensors.put(rename.apply(e.getKey()), TensorData.ofFloats(e.getValue().shape(), values));
    }
    tensors.putAll(extra);
    SafeTensors.write(dir.resolve(Checkpoints.WEIGHTS_FILE), tensors);
    return dir;
  }

  private static void assertSameWeights(LanguageModel expected, Path dir) throws Exception {
    try (LanguageModel loaded = Checkpoints.loadModel(dir, backend, DType.F32)) {
      assertArrayEquals(backend.downloadFloats(expected.parameters().masterAll()),
          backend.downloadFloats(loaded.parameters().masterAll()));
    }
  }

  @Test
  void gpt2FolderWithoutPrefixAndWithBuffersAndTiedHeadLoads(@TempDir Path tmp) throws Exception {
    try (LanguageModel model = TinyModels.gpt2(backend, 5)) {
      float[] wte = backend.downloadFloats(model.parameters().master("transformer.wte.weight"));
      Map<String, TensorData> extra = new LinkedHashMap<>();
      extra.put("h.0.attn.bias", TensorData.ofFloats(new long[] {1, 1, 12, 12}, new float[144]));
      extra.put("h.0.attn.masked_bias", TensorData.ofFloats(new long[] {1}, new float[] {-1e4f}));
      extra.put("lm_head.weight", TensorData.ofFloats(new long[] {TinyModels.VOCAB, 16}, wte));
      assertSameWeights(model, variant(tmp.resolve("gpt2"), model,
          k -> k.startsWith("transformer.") ? k.substring("transformer.".length()) : k, extra));
    }
  }

  @Test
  void bertFolderWithGammaBetaAndDecoderKeysLoads(@TempDir Path tmp) throws Exception {
    try (LanguageModel model = TinyModels.bert(backend, 5)) {
      float[] bias = backend.downloadFloats(model.parameters().master("cls.predictions.bias"));
      Map<String, TensorData> extra = new LinkedHashMap<>();
      extra.put("cls.predictions.decoder.bias", TensorData.ofFloats(new long[] {TinyModels.VOCAB}, bias));
      extra.put("bert.embeddings.position_ids", TensorData.ofFloats(new long[] {1, 12}, new float[12]));
      Path dir = variant(tmp.resolve("bert"), model, k -> k.endsWith("LayerNorm.weight")
          ? k.replace("LayerNorm.weight", "LayerNorm.gamma") : k.endsWith("LayerNorm.bias")
          ? k.replace("LayerNorm.bias", "LayerNorm.beta") : k, extra);
      assertSameWeights(model, dir);

      // Only the tied alias of the output bias (as some exports store it).
      Path alias = variant(tmp.resolve("alias"), model, k -> k.equals("cls.predictions.bias")
          ? "cls.predictions.decoder.bias" : k, Map.of());
      assertSameWeights(model, alias);
    }
  }

  /**
   * transformers 5 ties the masked-LM decoder's bias to the output bias only with tie_word_embeddings
   * true, and its forward adds the decoder's: an untied head (BERT, pre-LN BERT, BertForPreTraining)
   * is saved with cls.predictions.decoder.bias / lm_head.decoder.bias beside the output bias, and a
   * folder that transformers 5 writes for an untied head (both keys, the output bias an unused
   * tensor of other values) loads the decoder's. A tied head is saved without the copy.
   */
  @Test
  void untiedHeadsSaveAndReadTheDecoderBiasAsTransformers5(@TempDir Path tmp) throws Exception {
    for (BertConfig config : List.of(TinyModels.bertConfig(), TinyModels.preLnBertConfig())) {
      BertConfig untied = config.withTieWordEmbeddings(false);
      String bias = untied.preLayerNorm() ? "lm_head.bias" : "cls.predictions.bias";
      String decoderBias = untied.preLayerNorm() ? "lm_head.decoder.bias" : "cls.predictions.decoder.bias";
      float[] values = new float[TinyModels.VOCAB];
      for (int i = 0; i < values.length; i++) {
        values[i] = 0.01f * (i + 1); // HF's initialisation leaves the bias 0: give it values a swap would change
      }
      try (LanguageModel model = TinyModels.initialized(new BertForMaskedLM(untied, backend, DType.F32), 7);
          LanguageModel preTraining = TinyModels.initialized(new BertForPreTraining(untied, backend, DType.F32), 7);
          LanguageModel tied = TinyModels.initialized(new BertForMaskedLM(config, backend, DType.F32), 7)) {
        model.parameters().setMaster(bias, values);
        Path dir = tmp.resolve(untied.modelType());
        Checkpoints.saveModel(dir, model, null);
        SafeTensorsFile saved = SafeTensors.read(dir.resolve(Checkpoints.WEIGHTS_FILE));
        assertArrayEquals(values, saved.tensor(decoderBias).toFloats(), decoderBias);
        assertArrayEquals(values, saved.tensor(bias).toFloats(), bias);
        assertSameWeights(model, dir);

        float[] unused = new float[TinyModels.VOCAB];
        java.util.Arrays.fill(unused, -5f);
        Path theirs = variant(tmp.resolve(untied.modelType() + "-transformers5"), model, k -> k,
            Map.of(bias, TensorData.ofFloats(new long[] {TinyModels.VOCAB}, unused)));
        assertSameWeights(model, theirs);

        Path pair = tmp.resolve(untied.modelType() + "-pre-training");
        Checkpoints.saveModel(pair, preTraining, null);
        assertTrue(SafeTensors.read(pair.resolve(Checkpoints.WEIGHTS_FILE)).contains(decoderBias), decoderBias);

        Path tiedDir = tmp.resolve(config.modelType() + "-tied");
        Checkpoints.saveModel(tiedDir, tied, null);
        assertFalse(SafeTensors.read(tiedDir.resolve(Checkpoints.WEIGHTS_FILE)).contains(decoderBias), decoderBias);
      }
    }
  }

  @Test
  void brokenFoldersFailClearly(@TempDir Path tmp) throws Exception {
    NoSuchFileException none = assertThrows(NoSuchFileException.class,
        () -> Checkpoints.loadModel(tmp.resolve("nowhere"), backend, DType.F32));
    assertTrue(none.getMessage().contains("not a model folder"), none.getMessage());
    try (LanguageModel model = TinyModels.gpt2(backend, 5)) {
      Path dir = tmp.resolve("m");
      Checkpoints.saveModel(dir, model, null);
      Path weights = dir.resolve(Checkpoints.WEIGHTS_FILE);
      byte[] bytes = Files.readAllBytes(weights);

      Files.write(weights, java.util.Arrays.copyOf(bytes, bytes.length - 100));
      FileFormatException truncated = assertThrows(FileFormatException.class,
          () -> Checkpoints.loadModel(dir, backend, DType.F32));
      assertTrue(truncated.getMessage().startsWith(weights.toString()), truncated.getMessage());

      Files.write(weights, bytes);
      variant(dir, model, k -> k.equals("transformer.ln_f.bias") ? "unused.ln_f.bias" : k, Map.of());
      FileFormatException foreign = assertThrows(FileFormatException.class,
          () -> Checkpoints.loadModel(dir, backend, DType.F32));
      assertEquals(weights + ": tensor 'unused.ln_f.bias' is not a parameter of this gpt2 model (does config.json"
          + " match the weights?)", foreign.getMessage());

      Checkpoints.saveModel(dir, model, null);
      Map<String, TensorData> without = new LinkedHashMap<>(SafeTensors.read(weights).tensors());
      without.remove("transformer.ln_f.bias");
      Map<String, TensorData> copy = new LinkedHashMap<>();
      without.forEach((k, v) -> copy.put(k, TensorData.ofFloats(v.shape(), v.toFloats())));
      SafeTensors.write(weights, copy);
      FileFormatException missing = assertThrows(FileFormatException.class,
          () -> Checkpoints.loadModel(dir, backend, DType.F32));
      assertEquals(weights + ": missing 1 parameter(s): transformer.ln_f.bias", missing.getMessage());

      Files.delete(weights);
      assertThrows(NoSuchFileException.class, () -> Checkpoints.loadModel(dir, backend, DType.F32));
    }
  }
}
