package ai.lmtrain.train;

import static ai.lmtrain.tensor.KernelTestSupport.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.infer.FillMask;
import ai.lmtrain.infer.Generator;
import ai.lmtrain.infer.SamplingConfig;
import ai.lmtrain.infer.TopK;
import ai.lmtrain.io.SafeTensors;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.models.BertConfig;
import ai.lmtrain.models.BertForMaskedLM;
import ai.lmtrain.models.BertForPreTraining;
import ai.lmtrain.models.Gpt2Config;
import ai.lmtrain.models.Gpt2LMHeadModel;
import ai.lmtrain.models.InitScheme;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.ModelInput;
import ai.lmtrain.models.TinyModels;
import ai.lmtrain.tensor.Arena;
import ai.lmtrain.tensor.CpuBackendTest;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.ParameterStore;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tokenizers.Tokenizer;
import ai.lmtrain.tokenizers.Tokenizers;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The vocabulary padded to a multiple of 128 rows in the parameter layout: the padding rows stay
 * exactly zero through training with weight decay, never show up in logits, probabilities,
 * predictions or checkpoints; the chunked loss gives the same loss and gradients for any chunk
 * size; and the activation arena's peak no longer grows with tokens x vocabulary.
 */
class PaddedVocabularyTest extends CpuBackendTest {
  private static final String WTE = "transformer.wte.weight";
  private static final String WORDS = "bert.embeddings.word_embeddings.weight";
  private static final String MLM_BIAS = "cls.predictions.bias";

  private static Path legacy(String name) throws Exception {
    return Path.of(PaddedVocabularyTest.class.getResource("/legacy/" + name).toURI());
  }

  @Test
  void tablesStorePaddedRowsButCountAndSaveTheRealOnes(@TempDir Path tmp) throws Exception {
    try (Gpt2LMHeadModel gpt2 = TinyModels.gpt2(backend, 1); BertForMaskedLM bert = TinyModels.bert(backend, 1)) {
      ParameterTable.Entry wte = gpt2.parameters().table().get(WTE);
      assertArrayEquals(new long[] {TinyModels.VOCAB, 16}, wte.shape());
      assertEquals(LanguageModel.VOCAB_PADDING, wte.storedRows());
      assertEquals(LanguageModel.VOCAB_PADDING, bert.parameters().table().get(WORDS).storedRows());
      assertEquals(LanguageModel.VOCAB_PADDING, bert.parameters().table().get(MLM_BIAS).storedRows());
      long real = 0;
      for (ParameterTable.Entry e : gpt2.parameters().table().entries()) {
        real += e.numel();
      }
      assertEquals(real, gpt2.parameters().table().parameterCount());
      assertEquals(TinyModels.VOCAB * 16L, gpt2.parameters().master(WTE).numel());

      Checkpoints.saveModel(tmp.resolve("gpt2"), gpt2, null);
      Checkpoints.saveModel(tmp.resolve("bert"), bert, null);
      assertArrayEquals(new long[] {TinyModels.VOCAB, 16},
          SafeTensors.read(tmp.resolve("gpt2/model.safetensors")).tensor(WTE).shape());
      assertArrayEquals(new long[] {TinyModels.VOCAB, 16},
          SafeTensors.read(tmp.resolve("bert/model.safetensors")).tensor(WORDS).shape());
      assertArrayEquals(new long[] {TinyModels.VOCAB},
          SafeTensors.read(tmp.resolve("bert/model.safetensors")).tensor(MLM_BIAS).shape());
    }
  }

  /**
   * Untied output weights (tie_word_embeddings false) go through the same padded head as the tied
   * embedding: stored with the padded rows, saved and loaded back with V rows under Hugging Face's
   * names, their padding rows zero through training with weight decay (BertForPreTraining too).
   */
  @Test
  void untiedOutputWeightsArePaddedLikeTheEmbedding(@TempDir Path tmp) throws Exception {
    String lmHead = "lm_head.weight";
    String decoder = "cls.predictions.decoder.weight";
    try (LanguageModel gpt2 = TinyModels.initialized(new Gpt2LMHeadModel(TinyModels.gpt2Config()
        .withTieWordEmbeddings(false).withInitializer(InitScheme.PYTORCH), backend, DType.F32), 3);
        LanguageModel bert = TinyModels.initialized(new BertForMaskedLM(TinyModels.bertConfig()
            .withTieWordEmbeddings(false), backend, DType.F32), 3);
        BertForPreTraining preTraining = TinyModels.initialized(new BertForPreTraining(TinyModels.bertConfig()
            .withTieWordEmbeddings(false), backend, DType.F32), 3)) {
      assertEquals(List.of(WTE, lmHead), paddedEntries(gpt2.parameters()));
      assertEquals(List.of(WORDS, MLM_BIAS, decoder), paddedEntries(bert.parameters()));
      assertEquals(List.of(WORDS, MLM_BIAS, decoder), paddedEntries(preTraining.parameters()));
      trainAndCheckPadding("untied gpt2", gpt2, TinyModels.clmBatch());
      trainAndCheckPadding("untied bert", bert, TinyModels.batch());
      trainAndCheckPadding("untied bert pre-training", preTraining, TinyModels.batch());
      for (var m : List.of(Map.entry("gpt2", gpt2), Map.entry("bert", bert))) {
        String name = m.getKey().equals("gpt2") ? lmHead : decoder;
        Path dir = tmp.resolve(m.getKey());
        Checkpoints.saveModel(dir, m.getValue(), null);
        assertArrayEquals(new long[] {TinyModels.VOCAB, 16},
            SafeTensors.read(dir.resolve("model.safetensors")).tensor(name).shape());
        try (LanguageModel loaded = Checkpoints.loadModel(dir, backend, DType.F32)) {
          assertArrayEquals(masterWithPadding(m.getValue().parameters(), name),
              masterWithPadding(loaded.parameters(), name), name + " loaded back, padding rows included");
        }
      }
    }
  }

  /** Four AdamW steps with weight decay on every parameter, the padding rows checked after each. */
  private void trainAndCheckPadding(String what, LanguageModel model, ModelInput input) {
    ParameterStore store = model.parameters();
    try (AdamW adamw = new AdamW(store, 0.9f, 0.999f, 1e-8f, 0.1f, e -> true)) {
      for (int step = 0; step < 4; step++) {
        store.zeroGrads();
        arena.reset();
        double loss = LossStep.run(model, new Pass(store, arena, true, 3, 0), input, LossWeighting.MEAN, true, 1f)
            .loss();
        assertTrue(Double.isFinite(loss), what + " loss " + loss);
        adamw.step(1e-2f, 1f);
        for (String name : paddedEntries(store)) {
          assertPaddingZero(what + " step " + step + " " + name + " gradient",
              backend.downloadFloats(store.paddedGrad(name)), store.table().get(name));
          assertPaddingZero(what + " step " + step + " " + name + " weights", masterWithPadding(store, name),
              store.table().get(name));
        }
      }
    }
  }

  @Test
  void initializationDrawsTheRealRowsInOrderAcrossBlocks() {
    // 9000 x 128 word embeddings: more than one initialisation block (2^20 values); the padding token
    // (row 8500) lies in the second block. The first entry takes the first 9000 x 128 draws.
    BertConfig config = new BertConfig(9000, 128, 1, 2, 64, "gelu", 0.0, 0.0, 16, 2, 0.02, 1e-12, 8500, "absolute",
        true);
    try (BertForMaskedLM bert = new BertForMaskedLM(config, backend, DType.F32)) {
      bert.initialize(17);
      java.util.Random random = new java.util.Random(17);
      float[] expected = new float[9000 * 128];
      for (int i = 0; i < expected.length; i++) {
        expected[i] = (float) (random.nextGaussian() * 0.02);
      }
      java.util.Arrays.fill(expected, 8500 * 128, 8501 * 128, 0f);
      assertArrayEquals(expected, backend.downloadFloats(bert.parameters().master(WORDS)));
      assertPaddingZero("word embeddings after initialisation", masterWithPadding(bert.parameters(), WORDS),
          bert.parameters().table().get(WORDS));
    }
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void paddingRowsStayZeroThroughTrainingWithWeightDecay(DType dt) {
    for (String type : new String[] {"gpt2", "bert"}) {
      try (LanguageModel model = type.equals("gpt2")
          ? new Gpt2LMHeadModel(TinyModels.gpt2Config(), backend, dt) : new BertForMaskedLM(TinyModels.bertConfig(),
          backend, dt);
          AdamW adamw = new AdamW(model.parameters(), 0.9f, 0.999f, 1e-8f, 0.1f, e -> true)) {
        model.initialize(5);
        ModelInput input = type.equals("gpt2") ? TinyModels.clmBatch() : TinyModels.batch();
        ParameterStore store = model.parameters();
        for (int step = 0; step < 4; step++) {
          store.zeroGrads();
          arena.reset();
          double loss = LossStep.run(model, new Pass(store, arena, true, 3, 0), input, LossWeighting.MEAN, true, 1f)
              .loss();
          assertTrue(Double.isFinite(loss), type + " " + dt + " loss " + loss);
          String at = type + " " + dt + " step " + step + " ";
          for (String name : paddedEntries(store)) {
            assertPaddingZero(at + name + " gradient", backend.downloadFloats(store.paddedGrad(name)),
                store.table().get(name));
          }
          adamw.step(1e-2f, 1f);
          for (String name : paddedEntries(store)) {
            assertPaddingZero(at + name + " weights", masterWithPadding(store, name), store.table().get(name));
            assertPaddingZero(at + name + " working weights", backend.downloadFloats(store.paddedParam(name)),
                store.table().get(name));
          }
        }
        assertEquals(type.equals("gpt2") ? List.of(WTE) : List.of(WORDS, MLM_BIAS), paddedEntries(store));
      }
    }
  }

  private static List<String> paddedEntries(ParameterStore store) {
    return store.table().entries().stream().filter(e -> e.storedRows() > e.shape()[0]).map(ParameterTable.Entry::name)
        .toList();
  }

  private static float[] masterWithPadding(ParameterStore store, String name) {
    ParameterTable.Entry e = store.table().get(name);
    return backend.downloadFloats(store.masterAll().slice(e.offset(), e.storedNumel()));
  }

  private static void assertPaddingZero(String what, float[] padded, ParameterTable.Entry e) {
    assertEquals(e.storedNumel(), padded.length, what);
    for (long i = e.numel(); i < padded.length; i++) {
      assertEquals(0f, padded[(int) i], what + ": padding element " + i);
    }
  }

  @Test
  void paddingIdsNeverAppearInFillMaskOrLogits() throws Exception {
    Path folder = legacy("bert-step4");
    Tokenizer tokenizer = Tokenizers.load(folder);
    try (BertForMaskedLM bert = (BertForMaskedLM) Checkpoints.loadModel(folder, backend, DType.F32)) {
      int v = bert.vocabSize();
      float[] bias = new float[v];
      java.util.Arrays.fill(bias, -30f); // every real logit near -30; a padding column (logit 0) would win if it leaked
      bert.parameters().setMaster(MLM_BIAS, bias);
      List<List<FillMask.Prediction>> predictions = FillMask.predict(bert, tokenizer, "the lion is the [MASK] .",
          v + 50);
      assertEquals(v, predictions.get(0).size(), "top_k beyond the vocabulary returns the real vocabulary");
      double total = 0;
      for (FillMask.Prediction p : predictions.get(0)) {
        assertTrue(p.token() >= 0 && p.token() < v, "token id " + p.token());
        total += p.score();
      }
      assertEquals(1.0, total, 1e-6, "the probabilities of the real vocabulary sum to 1");
      assertLossIgnoresPadding(bert, TinyModels.batch().inputIds().length, remap(TinyModels.batch(), v));
    }
  }

  @Test
  void paddingIdsNeverAppearInGenerationOrNextTokens() throws Exception {
    try (Gpt2LMHeadModel gpt2 = (Gpt2LMHeadModel) Checkpoints.loadModel(legacy("gpt2-step4"), backend, DType.F32)) {
      int v = gpt2.vocabSize();
      int e = gpt2.config().nEmbd();
      float[] lnBias = ai.lmtrain.tensor.KernelTestSupport.randomFloats(3, e, 1);
      double norm2 = 0;
      for (float b : lnBias) {
        norm2 += b * b;
      }
      float[] wte = new float[v * e]; // every row -5 b / |b|^2 (+ noise): every real logit near -5, padding's 0
      float[] noise = ai.lmtrain.tensor.KernelTestSupport.randomFloats(4, v * e, 0.01);
      for (int id = 0; id < v; id++) {
        for (int c = 0; c < e; c++) {
          wte[id * e + c] = (float) (-5 * lnBias[c] / norm2) + noise[id * e + c];
        }
      }
      gpt2.parameters().setMaster(WTE, wte);
      gpt2.parameters().setMaster("transformer.ln_f.weight", new float[e]);
      gpt2.parameters().setMaster("transformer.ln_f.bias", lnBias);

      Generator generator = new Generator(gpt2);
      List<TopK.Candidate> next = generator.nextTokens(new int[] {5, 6, 7}, v + 10);
      assertEquals(v, next.size());
      next.forEach(c -> assertTrue(c.id() < v, "next token " + c.id()));
      for (SamplingConfig sampling : List.of(SamplingConfig.greedy(),
          SamplingConfig.sampling(11).withTemperature(5f).withTopK(0))) {
        for (int id : generator.generate(new int[] {5}, 24, sampling, -1, true)) {
          assertTrue(id >= 0 && id < v, "generated id " + id + " with " + sampling);
        }
      }
      assertLossIgnoresPadding(gpt2, 14, remap(TinyModels.clmBatch(), v));
    }
  }

  /** TinyModels' batch with ids (and labels) folded into [0, v). */
  private static ModelInput remap(ModelInput in, int v) {
    int[] ids = in.inputIds().clone();
    int[] labels = in.labels().clone();
    for (int i = 0; i < ids.length; i++) {
      ids[i] %= v;
      labels[i] = labels[i] < 0 ? labels[i] : labels[i] % v;
    }
    return new ModelInput(in.batch(), in.seqLen(), ids, in.attentionMask(), in.tokenTypeIds(), labels);
  }

  /** The chunked loss equals the mean cross-entropy of the model's own logits over the real vocabulary only. */
  private static void assertLossIgnoresPadding(LanguageModel model, int positions, ModelInput input) {
    arena.reset();
    float[][] logits = model.logits(Pass.inference(model.parameters(), arena), input,
        IntStream.range(0, positions).toArray());
    int[] labels = model.lossLabels(input);
    double sum = 0;
    int scored = 0;
    for (int i = 0; i < positions; i++) {
      assertEquals(model.vocabSize(), logits[i].length);
      if (labels[i] == ModelInput.IGNORE_INDEX) {
        continue;
      }
      double max = Double.NEGATIVE_INFINITY;
      for (float x : logits[i]) {
        max = Math.max(max, x);
      }
      double z = 0;
      for (float x : logits[i]) {
        z += Math.exp(x - max);
      }
      sum += max + Math.log(z) - logits[i][labels[i]];
      scored++;
    }
    arena.reset();
    double loss = LossStep.run(model, Pass.inference(model.parameters(), arena), input, LossWeighting.MEAN, false, 1f)
        .loss();
    assertEquals(sum / scored, loss, 1e-5 * Math.abs(sum / scored), "loss over the real vocabulary only");
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void anyChunkSizeGivesTheSameLossAndGradients(DType dt) {
    for (String type : new String[] {"gpt2", "bert"}) {
      for (LossWeighting weighting : List.of(LossWeighting.MEAN, LossWeighting.keyTokens(new int[] {11, 17}, 2.0))) {
        try (LanguageModel model = type.equals("gpt2")
            ? new Gpt2LMHeadModel(TinyModels.gpt2Config(), backend, dt) : new BertForMaskedLM(TinyModels.bertConfig(),
            backend, dt)) {
          model.initialize(9);
          ModelInput input = type.equals("gpt2") ? TinyModels.clmBatch() : TinyModels.batch();
          double[] losses = new double[3];
          float[][] grads = new float[3][];
          int[] chunkRows = {1, 7, Integer.MAX_VALUE / (LanguageModel.VOCAB_PADDING * dt.bytes())};
          for (int k = 0; k < 3; k++) {
            model.setLogitsChunkBytes((long) chunkRows[k] * LanguageModel.VOCAB_PADDING * dt.bytes());
            model.parameters().zeroGrads();
            arena.reset();
            losses[k] = LossStep.run(model, new Pass(model.parameters(), arena, true, 0, 0), input, weighting, true,
                1f).loss();
            grads[k] = backend.downloadFloats(model.parameters().gradAll());
          }
          double scale = 0;
          for (float g : grads[2]) {
            scale = Math.max(scale, Math.abs(g));
          }
          for (int k = 0; k < 2; k++) {
            String at = type + " " + dt + " chunks of " + chunkRows[k] + " rows";
            assertEquals(losses[2], losses[k], 1e-6 * losses[2], at + ": loss");
            assertClose(at + ": gradients", grads[2], grads[k], (dt == DType.F32 ? 1e-5 : 1e-2) * scale, 0);
          }
        }
      }
    }
  }

  @Test
  void arenaPeakNoLongerGrowsWithTokensTimesVocabulary() {
    int vocab = 16000; // a multiple of 128: padded logits rows are 64 kB
    Gpt2Config config = new Gpt2Config(vocab, 512, 8, 1, 2, null, "gelu_new", 0.0, 0.0, 0.0, 1e-5, 0.02, true, false,
        null, null, true);
    long chunkBytes = 256 << 10;
    long[] peaks = new long[2];
    int[] batches = {1, 4};
    try (Gpt2LMHeadModel model = new Gpt2LMHeadModel(config, backend, DType.F32)) {
      model.initialize(1);
      model.setLogitsChunkBytes(chunkBytes);
      for (int k = 0; k < 2; k++) {
        int b = batches[k];
        int[] ids = ai.lmtrain.tensor.KernelTestSupport.randomInts(7 + k, b * 512, vocab);
        ModelInput input = new ModelInput(b, 512, ids, null, null, ids);
        try (Arena fresh = new Arena(backend, 1 << 20)) {
          model.parameters().zeroGrads();
          LossStep.run(model, new Pass(model.parameters(), fresh, true, 0, 0), input, LossWeighting.MEAN, true, 1f)
              .loss();
          peaks[k] = fresh.highWaterBytes();
        }
      }
    }
    long logitsPerRow = (long) vocab * Float.BYTES; // what the unchunked head held per scored row
    long rows = 4 * 511;
    assertTrue(peaks[1] < rows * logitsPerRow / 4, "peak " + peaks[1] + " bytes for " + rows
        + " scored rows; their logits alone would take " + rows * logitsPerRow);
    long growth = peaks[1] - peaks[0];
    long logitsGrowth = 3 * 511 * logitsPerRow;
    assertTrue(growth < logitsGrowth / 10, "4x the tokens grew the peak by " + growth + " bytes; the logits would"
        + " have grown it by " + logitsGrowth);
  }
}
