package ai.lmtrain.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.io.FileFormatException;
import ai.lmtrain.tensor.CpuBackendTest;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.ParameterStore;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The "initializer" config key: PyTorch's module defaults parameter by parameter (exact values where
 * they are constants, the bounds and moments of the distributions otherwise), Hugging Face's
 * initialisation by default, both seeded, and the key in config.json. The statistics against PyTorch
 * itself are in InitStatisticsTest.
 */
class InitSchemeTest extends CpuBackendTest {
  /** GPT-2: 2 layers, embd 64 (inner 256), 40 positions, vocab 300. */
  private static final Gpt2Config GPT2 = new Gpt2Config(300, 40, 64, 2, 4, null, "gelu_new", 0.1, 0.1, 0.1, 1e-5,
      0.02, true, false, null, null, true);
  /** BERT: 2 layers, hidden 64, intermediate 96, 40 positions, vocab 300, pad 0. */
  private static final BertConfig BERT = new BertConfig(300, 64, 2, 4, 96, "gelu", 0.1, 0.1, 40, 2, 0.02, 1e-12, 0,
      "absolute", true);

  private static float[] values(ParameterStore store, String name) {
    return backend.downloadFloats(store.master(name));
  }

  /** Every value in [-bound, bound], mean ~ 0 and std ~ bound / sqrt(3) (uniform), 5 standard errors. */
  private static void assertUniform(float[] v, double bound, String what) {
    double sum = 0;
    double sq = 0;
    for (float x : v) {
      assertTrue(Math.abs(x) <= bound, what + ": " + x + " outside +-" + bound);
      sum += x;
      sq += x * (double) x;
    }
    double mean = sum / v.length;
    double std = Math.sqrt(sq / v.length - mean * mean);
    double sigma = bound / Math.sqrt(3);
    assertEquals(0, mean, 5 * sigma / Math.sqrt(v.length), what + " mean");
    assertEquals(sigma, std, 5 * sigma * Math.sqrt(0.2 / v.length), what + " std"); // kurtosis 1.8: var(s) = 0.2 s^2 / n
  }

  /** Mean ~ 0 and std ~ sigma of a normal sample, 5 standard errors. */
  private static void assertNormal(float[] v, double sigma, String what) {
    double sum = 0;
    double sq = 0;
    for (float x : v) {
      sum += x;
      sq += x * (double) x;
    }
    double mean = sum / v.length;
    double std = Math.sqrt(sq / v.length - mean * mean);
    assertEquals(0, mean, 5 * sigma / Math.sqrt(v.length), what + " mean");
    assertEquals(sigma, std, 5 * sigma / Math.sqrt(2.0 * v.length), what + " std");
  }

  private static void assertAll(float[] v, float expected, String what) {
    for (float x : v) {
      assertEquals(expected, x, 0f, what);
    }
  }

  @Test
  void gpt2WithPyTorchDefaults() {
    try (Gpt2LMHeadModel m = new Gpt2LMHeadModel(GPT2.withInitializer(InitScheme.PYTORCH), backend, DType.F32)) {
      m.initialize(5);
      ParameterStore s = m.parameters();
      assertNormal(values(s, "transformer.wte.weight"), 1.0, "wte");
      assertNormal(values(s, "transformer.wpe.weight"), 1.0, "wpe");
      for (int i = 0; i < 2; i++) {
        String p = "transformer.h." + i + ".";
        // Conv1D (in, out): fan_in is the first dimension, 64 for all but mlp.c_proj (256)
        assertUniform(values(s, p + "attn.c_attn.weight"), 1 / 8.0, p + "attn.c_attn.weight");
        assertUniform(values(s, p + "attn.c_attn.bias"), 1 / 8.0, p + "attn.c_attn.bias");
        assertUniform(values(s, p + "attn.c_proj.weight"), 1 / 8.0, p + "attn.c_proj.weight");
        assertUniform(values(s, p + "mlp.c_fc.weight"), 1 / 8.0, p + "mlp.c_fc.weight");
        assertUniform(values(s, p + "mlp.c_fc.bias"), 1 / 8.0, p + "mlp.c_fc.bias");
        assertUniform(values(s, p + "mlp.c_proj.weight"), 1 / 16.0, p + "mlp.c_proj.weight");
        assertUniform(values(s, p + "mlp.c_proj.bias"), 1 / 16.0, p + "mlp.c_proj.bias");
        assertAll(values(s, p + "ln_1.weight"), 1f, "ln_1.weight");
        assertAll(values(s, p + "ln_2.bias"), 0f, "ln_2.bias");
      }
      assertAll(values(s, "transformer.ln_f.weight"), 1f, "ln_f.weight");
      assertAll(values(s, "transformer.ln_f.bias"), 0f, "ln_f.bias");
    }
  }

  /** The untied output projections: an nn.Linear(E, V) under "pytorch", N(0, initializer_range) under "hf". */
  @Test
  void untiedOutputProjections() {
    for (InitScheme scheme : InitScheme.values()) {
      try (Gpt2LMHeadModel gpt2 = new Gpt2LMHeadModel(GPT2.withTieWordEmbeddings(false).withInitializer(scheme),
          backend, DType.F32);
          BertForMaskedLM bert = new BertForMaskedLM(BERT.withTieWordEmbeddings(false).withInitializer(scheme),
              backend, DType.F32)) {
        gpt2.initialize(5);
        bert.initialize(5);
        float[] lmHead = values(gpt2.parameters(), "lm_head.weight");
        float[] decoder = values(bert.parameters(), "cls.predictions.decoder.weight");
        if (scheme == InitScheme.PYTORCH) {
          assertUniform(lmHead, 1 / 8.0, "lm_head.weight");
          assertUniform(decoder, 1 / 8.0, "cls.predictions.decoder.weight");
        } else {
          assertNormal(lmHead, 0.02, "lm_head.weight");
          assertNormal(decoder, 0.02, "cls.predictions.decoder.weight");
        }
      }
    }
  }

  @Test
  void bertWithPyTorchDefaults() {
    for (BertConfig config : new BertConfig[] {BERT, BERT.withModelType(BertConfig.PRE_LAYER_NORM_MODEL_TYPE)}) {
      try (BertForPreTraining m = new BertForPreTraining(config.withInitializer(InitScheme.PYTORCH), backend,
          DType.F32)) {
        m.initialize(6);
        ParameterStore s = m.parameters();
        BertNames names = BertNames.of(config);
        float[] word = values(s, names.wordEmbeddings());
        assertAll(java.util.Arrays.copyOfRange(word, 0, 64), 0f, "the pad row (padding_idx 0)");
        assertNormal(java.util.Arrays.copyOfRange(word, 64, word.length), 1.0, "word embeddings");
        float[] positions = values(s, names.positionEmbeddings());
        if (config.preLayerNorm()) { // RobertaPreLayerNormEmbeddings: position_embeddings has padding_idx too
          assertAll(java.util.Arrays.copyOfRange(positions, 0, 64), 0f, "the pre-LN position pad row");
        } else {
          assertNormal(positions, 1.0, "position embeddings");
        }
        assertNormal(values(s, names.tokenTypeEmbeddings()), 1.0, "token type embeddings");
        for (int i = 0; i < 2; i++) {
          String p = names.layer(i) + ".";
          for (String q : new String[] {"query", "key", "value"}) {
            assertUniform(values(s, p + "attention.self." + q + ".weight"), 1 / 8.0, q);
            assertUniform(values(s, p + "attention.self." + q + ".bias"), 1 / 8.0, q + " bias");
          }
          assertUniform(values(s, p + "intermediate.dense.weight"), 1 / 8.0, "intermediate");
          assertUniform(values(s, p + "output.dense.weight"), 1 / Math.sqrt(96), "output (fan_in 96)");
          assertUniform(values(s, p + "output.dense.bias"), 1 / Math.sqrt(96), "output bias");
        }
        assertUniform(values(s, names.headDense + ".weight"), 1 / 8.0, "head transform");
        assertAll(values(s, names.headNorm + ".weight"), 1f, "head LayerNorm weight");
        assertAll(values(s, names.outputBias), 0f, "the masked-LM output bias (created as zeros)");
        assertUniform(values(s, names.pooler() + ".dense.weight"), 1 / 8.0, "pooler");
        assertUniform(values(s, "cls.seq_relationship.weight"), 1 / 8.0, "seq_relationship");
        assertUniform(values(s, "cls.seq_relationship.bias"), 1 / 8.0, "seq_relationship bias");
      }
    }
  }

  @Test
  void hfInitializationStaysTheDefault() {
    assertEquals(InitScheme.HF, GPT2.initScheme());
    assertEquals(InitScheme.HF, BERT.initScheme());
    try (Gpt2LMHeadModel m = new Gpt2LMHeadModel(GPT2, backend, DType.F32)) {
      m.initialize(5);
      assertNormal(values(m.parameters(), "transformer.wte.weight"), 0.02, "wte");
      assertNormal(values(m.parameters(), "transformer.h.0.attn.c_proj.weight"), 0.02 / Math.sqrt(4), "c_proj");
      assertAll(values(m.parameters(), "transformer.h.0.attn.c_attn.bias"), 0f, "bias");
    }
  }

  @Test
  void theSameSeedGivesTheSameWeightsAndAnotherSeedOthers() {
    Gpt2Config config = GPT2.withInitializer(InitScheme.PYTORCH);
    try (Gpt2LMHeadModel a = new Gpt2LMHeadModel(config, backend, DType.F32);
        Gpt2LMHeadModel b = new Gpt2LMHeadModel(config, backend, DType.F32);
        Gpt2LMHeadModel c = new Gpt2LMHeadModel(config, backend, DType.F32)) {
      a.initialize(9);
      b.initialize(9);
      c.initialize(10);
      float[] wa = backend.downloadFloats(a.parameters().masterAll());
      assertArrayEquals(wa, backend.downloadFloats(b.parameters().masterAll()));
      assertFalse(java.util.Arrays.equals(wa, backend.downloadFloats(c.parameters().masterAll())));
    }
  }

  @Test
  void theSchemeIsRecordedInConfigJson(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("config.json");
    GPT2.withInitializer(InitScheme.PYTORCH).writeJson(file);
    assertTrue(Files.readString(file).contains("\"initializer\": \"pytorch\""));
    assertEquals(InitScheme.PYTORCH, ((Gpt2Config) ModelConfigs.read(file)).initScheme());
    Files.writeString(file, "{\"model_type\": \"bert\", \"initializer\": \"xavier\"}");
    FileFormatException e = assertThrows(FileFormatException.class, () -> ModelConfigs.read(file));
    assertTrue(e.getMessage().endsWith("invalid bert config: initializer must be \"hf\" or \"pytorch\", got"
        + " \"xavier\""), e.getMessage());
  }
}
