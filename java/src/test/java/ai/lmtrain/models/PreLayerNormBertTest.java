package ai.lmtrain.models;

import static ai.lmtrain.tensor.KernelTestSupport.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.layers.Pass;
import ai.lmtrain.tensor.CpuBackendTest;
import ai.lmtrain.tensor.DType;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Pre-LN BERT (model_type roberta-prelayernorm) beyond the PyTorch parity fixture: RoBERTa's
 * position ids for any padding layout, padding that does not change the real tokens' logits, the
 * shorter position range, and the heads it does not have.
 */
class PreLayerNormBertTest extends CpuBackendTest {

  @Test
  void positionIdsFollowTransformersCreatePositionIdsFromInputIds() {
    int pad = 1;
    // right padding, left padding, a pad token inside: non-pad tokens count from pad + 1, pad tokens get pad
    ModelInput in = new ModelInput(3, 5, new int[] {
        7, 8, 9, 1, 1,
        1, 1, 7, 8, 9,
        7, 1, 8, 9, 4}, null, null, null);
    assertArrayEquals(new int[] {
        2, 3, 4, 1, 1,
        1, 1, 2, 3, 4,
        2, 1, 3, 4, 5}, BertBody.robertaPositionIds(in, pad));
  }

  @Test
  void rightPaddingLeavesTheRealTokensLogitsAlone() {
    try (BertForMaskedLM model = TinyModels.preLnBert(backend, 3)) {
      int[] ids = {2, 11, 17, 4, 23};
      arena.reset();
      int[] real = {0, 1, 2, 3, 4};
      float[][] alone = model.logits(Pass.inference(model.parameters(), arena), ModelInput.of(ids), real);
      arena.reset();
      int[] padded = Arrays.copyOf(ids, 7); // pad_token_id 0
      float[][] withPadding = model.logits(Pass.inference(model.parameters(), arena),
          new ModelInput(1, 7, padded, new int[] {1, 1, 1, 1, 1, 0, 0}, null, null), real);
      for (int t : real) {
        assertClose("logits of real token " + t, alone[t], withPadding[t], 1e-5, 1e-5);
      }
    }
  }

  @Test
  void thePositionTableHoldsPadTokenIdPlusOneFewerTokens() {
    try (BertForMaskedLM model = TinyModels.preLnBert(backend, 3)) {
      assertEquals(11, model.maxPositions(), "12 position rows, the first (pad_token_id 0) for padding");
      arena.reset();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> model.logits(Pass.inference(model.parameters(), arena), ModelInput.of(new int[12]), new int[] {0}));
      assertEquals("sequence length 12 exceeds the model's maximum of 11 positions (max_position_embeddings /"
          + " n_positions)", e.getMessage());
    }
  }

  @Test
  void namesAreTransformersRobertaPreLayerNormOnes() {
    List<String> names = BertForMaskedLM.table(TinyModels.preLnBertConfig()).entries().stream()
        .map(e -> e.name()).toList();
    for (String expected : new String[] {"roberta_prelayernorm.embeddings.word_embeddings.weight",
        "roberta_prelayernorm.embeddings.LayerNorm.weight", "roberta_prelayernorm.encoder.layer.1.attention.LayerNorm.bias",
        "roberta_prelayernorm.encoder.layer.0.attention.self.query.weight",
        "roberta_prelayernorm.encoder.layer.0.attention.output.dense.weight",
        "roberta_prelayernorm.encoder.layer.0.intermediate.LayerNorm.weight",
        "roberta_prelayernorm.encoder.layer.0.output.dense.bias", "roberta_prelayernorm.LayerNorm.weight",
        "lm_head.dense.weight", "lm_head.layer_norm.weight", "lm_head.bias"}) {
      assertTrue(names.contains(expected), expected + " in " + names);
    }
    try (BertForMaskedLM model = TinyModels.preLnBert(backend, 3)) {
      assertEquals("roberta_prelayernorm.encoder.layer.0.output.dense.weight",
          model.parameterNameFor("encoder.layer.0.output.dense.weight"), "RobertaPreLayerNormModel keys lack the prefix");
      assertEquals(null, model.parameterNameFor("lm_head.decoder.weight"), "tied to the word embeddings");
      assertEquals(null, model.parameterNameFor("roberta_prelayernorm.embeddings.position_ids"));
    }
  }

  @Test
  void sequenceClassificationOfAPreLnModelIsRefused() {
    SequenceClassification head = new SequenceClassification(List.of("a", "b"), ProblemType.SINGLE_LABEL, null, null);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SequenceClassifier.create(TinyModels.preLnBertConfig(), head, backend, DType.F32));
    assertEquals("sequence classification of a roberta-prelayernorm (pre-LN) model is not supported (transformers'"
        + " RobertaPreLayerNormForSequenceClassification head is not implemented); fine-tune a \"bert\" or \"gpt2\""
        + " model", e.getMessage());
  }
}
