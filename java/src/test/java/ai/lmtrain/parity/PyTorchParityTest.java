package ai.lmtrain.parity;

import static ai.lmtrain.tensor.KernelTestSupport.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.lmtrain.data.Batch;
import ai.lmtrain.data.SentencePairs;
import ai.lmtrain.infer.SequenceLogits;
import ai.lmtrain.io.SafeTensors;
import ai.lmtrain.io.SafeTensorsFile;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.models.BertForPreTraining;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.Model;
import ai.lmtrain.models.ModelInput;
import ai.lmtrain.models.SequenceClassifier;
import ai.lmtrain.models.TinyModels;
import ai.lmtrain.tensor.CpuBackendTest;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.train.AdamW;
import ai.lmtrain.train.BatchLoss;
import ai.lmtrain.train.Checkpoints;
import ai.lmtrain.train.ClassificationObjective;
import ai.lmtrain.train.LossStep;
import ai.lmtrain.train.LossWeighting;
import ai.lmtrain.train.SentencePairObjective;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Our BERT, pre-LN BERT (roberta-prelayernorm, with RoBERTa's position ids on a padded row), GPT-2,
 * BERT with both pre-training heads (masked LM + next sentence), BERT and GPT-2 with untied output
 * projections (tie_word_embeddings false, PyTorch-default initialisation), and the sequence classifiers
 * (single-label, multi-label, regression), against PyTorch with the Hugging Face math (fixtures from {@code scripts/parity/make_fixtures.sh}):
 * the model folder written by this project loads, and logits, loss, every parameter gradient and
 * the losses of 5 AdamW steps match.
 * Tolerances (fp32): logits and loss 1e-4 absolute + 1e-4 relative; gradients 1e-4 relative to
 * each tensor's largest gradient; AdamW losses 1e-4 relative.
 */
class PyTorchParityTest extends CpuBackendTest {
  private static Path fixture(String type) throws Exception {
    return Path.of(PyTorchParityTest.class.getResource("/parity/" + type).toURI());
  }

  @ParameterizedTest
  @ValueSource(strings = {"bert", "gpt2", "bert-preln", "bert-untied", "gpt2-untied", ParityFixtures.PRE_TRAINING})
  void fixturesAreInSyncWithTheGenerator(String type) throws Exception {
    try (LanguageModel generated = ParityFixtures.model(type, backend);
        LanguageModel loaded = type.equals(ParityFixtures.PRE_TRAINING)
            ? Checkpoints.loadPreTraining(fixture(type), backend, DType.F32)
            : Checkpoints.loadModel(fixture(type), backend, DType.F32)) {
      assertArrayEquals(backend.downloadFloats(generated.parameters().masterAll()),
          backend.downloadFloats(loaded.parameters().masterAll()),
          "the fixture weights no longer match ParityFixtures; rerun scripts/parity/make_fixtures.sh");
    }
  }

  /**
   * {@link SequenceLogits} (the logits of {@code --logits}) on the fixture's first GPT-2 sequence,
   * which has no padding, against PyTorch's rows for it; same tolerance as the batch logits.
   */
  @Test
  void sequenceLogitsOfAnUnpaddedSequenceMatchPyTorch() throws Exception {
    ModelInput input = ParityFixtures.input("gpt2");
    int t = input.seqLen();
    float[] reference = SafeTensors.read(fixture("gpt2").resolve("reference.safetensors")).tensor("logits").toFloats();
    try (LanguageModel model = Checkpoints.loadModel(fixture("gpt2"), backend, DType.F32)) {
      float[][] rows = SequenceLogits.of(model, Arrays.copyOf(input.inputIds(), t));
      assertEquals(t, rows.length);
      int vocab = model.vocabSize();
      for (int i = 0; i < t; i++) {
        assertClose("gpt2 logits of position " + i, Arrays.copyOfRange(reference, i * vocab, (i + 1) * vocab), rows[i],
            1e-4, 1e-4);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"bert", "gpt2", "bert-preln", "bert-untied", "gpt2-untied"})
  void logitsLossGradientsAndAdamWStepsMatchPyTorch(String type) throws Exception {
    SafeTensorsFile reference = SafeTensors.read(fixture(type).resolve("reference.safetensors"));
    ModelInput input = ParityFixtures.input(type);
    try (LanguageModel model = Checkpoints.loadModel(fixture(type), backend, DType.F32)) {
      model.parameters().zeroGrads();
      arena.reset();
      Pass pass = new Pass(model.parameters(), arena, true, 0, 0);
      assertClose(type + " logits", reference.tensor("logits").toFloats(), allLogits(model, pass, input), 1e-4, 1e-4);

      arena.reset();
      LossStep.Result r = LossStep.run(model, new Pass(model.parameters(), arena, true, 0, 0), input,
          LossWeighting.MEAN, true, 1f);
      assertClose(type + " loss", reference.tensor("loss").toFloats(), new float[] {(float) r.loss()}, 1e-4, 1e-4);
      assertGradientsAndAdamWStepsMatch(type, reference, model, update -> (float) LossStep.run(model,
          new Pass(model.parameters(), arena, true, 0, 0), input, LossWeighting.MEAN, update, 1f).loss());
    }
  }

  /**
   * BertForPreTraining: the masked-LM and next-sentence logits, the summed loss, every gradient
   * (both heads into the shared encoder) and 5 AdamW steps of {@link SentencePairObjective}.
   */
  @Test
  void preTrainingHeadsMatchPyTorch() throws Exception {
    String name = ParityFixtures.PRE_TRAINING;
    SafeTensorsFile reference = SafeTensors.read(fixture(name).resolve("reference.safetensors"));
    Batch batch = TinyModels.sentencePairBatch();
    try (BertForPreTraining model = Checkpoints.loadPreTraining(fixture(name), backend, DType.F32)) {
      SentencePairObjective objective = new SentencePairObjective(model, SentencePairs.Task.NSP);
      ModelInput input = ModelInput.from(batch);
      arena.reset();
      assertClose(name + " logits", reference.tensor("logits").toFloats(),
          allLogits(model, new Pass(model.parameters(), arena, true, 0, 0), input), 1e-4, 1e-4);
      arena.reset();
      int[] sentenceLabels = new int[batch.batchSize()];
      for (int i = 0; i < sentenceLabels.length; i++) {
        sentenceLabels[i] = (int) batch.sequenceTargets()[i];
      }
      BertForPreTraining.PreTrainingLoss out = model.preTrainingLoss(new Pass(model.parameters(), arena, true, 0, 0),
          input, new LanguageModel.LossTargets(model.lossLabels(input), null, 1f, false, false), sentenceLabels, 1f);
      assertClose(name + " seq_relationship logits", reference.tensor("seq_relationship_logits").toFloats(),
          backend.downloadFloats(out.sentenceLogits()), 1e-4, 1e-4);

      model.parameters().zeroGrads();
      arena.reset();
      assertClose(name + " loss", reference.tensor("loss").toFloats(),
          new float[] {loss(objective.run(new Pass(model.parameters(), arena, true, 0, 0), batch, true, 1f))}, 1e-4,
          1e-4);
      assertGradientsAndAdamWStepsMatch(name, reference, model, update -> loss(objective.run(
          new Pass(model.parameters(), arena, true, 0, 0), batch, update, 1f)));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"bert-cls", "gpt2-cls", "bert-multilabel", "gpt2-regression"})
  void classifierFixturesAreInSyncWithTheGenerator(String name) throws Exception {
    try (SequenceClassifier generated = ParityFixtures.classifier(name, backend);
        SequenceClassifier loaded = Checkpoints.loadClassifier(fixture(name), backend, DType.F32)) {
      assertArrayEquals(backend.downloadFloats(generated.parameters().masterAll()),
          backend.downloadFloats(loaded.parameters().masterAll()),
          "the fixture weights no longer match ParityFixtures; rerun scripts/parity/make_fixtures.sh");
      assertEquals(generated.classification(), loaded.classification());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"bert-cls", "gpt2-cls", "bert-multilabel", "gpt2-regression"})
  void classifierLogitsLossGradientsAndAdamWStepsMatchPyTorch(String name) throws Exception {
    SafeTensorsFile reference = SafeTensors.read(fixture(name).resolve("reference.safetensors"));
    Batch batch = ParityFixtures.classifierBatch(name);
    try (SequenceClassifier model = Checkpoints.loadClassifier(fixture(name), backend, DType.F32)) {
      ClassificationObjective objective = new ClassificationObjective(model);
      arena.reset();
      float[] logits = backend.downloadFloats(model.forward(new Pass(model.parameters(), arena, true, 0, 0),
          ModelInput.from(batch)));
      assertClose(name + " logits", reference.tensor("logits").toFloats(), logits, 1e-4, 1e-4);

      model.parameters().zeroGrads();
      arena.reset();
      assertClose(name + " loss", reference.tensor("loss").toFloats(),
          new float[] {loss(objective.run(new Pass(model.parameters(), arena, true, 0, 0), batch, true, 1f))}, 1e-4,
          1e-4);
      assertGradientsAndAdamWStepsMatch(name, reference, model, update -> loss(objective.run(
          new Pass(model.parameters(), arena, true, 0, 0), batch, update, 1f)));
    }
  }

  /** The logits (B*T, V) of every position of {@code input}, row after row. */
  private static float[] allLogits(LanguageModel model, Pass pass, ModelInput input) {
    float[][] rows = model.logits(pass, input, IntStream.range(0, input.positions()).toArray());
    float[] logits = new float[rows.length * model.vocabSize()];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, logits, i * model.vocabSize(), model.vocabSize());
    }
    return logits;
  }

  /** One forward (and, with {@code update}, backward) of the fixture's batch, returning its loss. */
  @FunctionalInterface
  private interface LossRun {
    float run(boolean update);
  }

  /**
   * The gradients of the loss just computed (by the caller, from zeroed gradients) against the
   * reference's, then the losses of 5 AdamW steps (lr and decay of {@link ParityFixtures}).
   */
  private static void assertGradientsAndAdamWStepsMatch(String what, SafeTensorsFile reference, Model model,
      LossRun loss) throws Exception {
    for (ParameterTable.Entry e : model.parameters().table().entries()) {
      float[] expected = reference.tensor("grad." + e.name()).toFloats();
      double scale = 0;
      for (float g : expected) {
        scale = Math.max(scale, Math.abs(g));
      }
      assertClose(what + " gradient of " + e.name(), expected,
          backend.downloadFloats(model.parameters().grad(e.name())), 1e-4 * scale + 1e-7, 0);
    }
    float[] expectedLosses = reference.tensor("adamw_losses").toFloats();
    float[] losses = new float[expectedLosses.length];
    try (AdamW adamw = new AdamW(model.parameters(), 0.9f, 0.999f, 1e-8f, (float) ParityFixtures.ADAMW_WEIGHT_DECAY,
        ParameterTable.Entry::decay)) {
      for (int step = 0; step <= ParityFixtures.ADAMW_STEPS; step++) {
        model.parameters().zeroGrads();
        arena.reset();
        boolean update = step < ParityFixtures.ADAMW_STEPS;
        losses[step] = loss.run(update);
        if (update) {
          adamw.step((float) ParityFixtures.ADAMW_LR, 1f);
        }
      }
    }
    assertEquals(ParityFixtures.ADAMW_STEPS + 1, losses.length);
    assertClose(what + " losses over 5 AdamW steps", expectedLosses, losses, 0, 1e-4);
  }

  private static float loss(BatchLoss r) {
    return backend.downloadFloats(r.lossSum())[0] * r.meanScale();
  }
}
