package ai.lmtrain.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.lmtrain.data.Batch;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.models.BertConfig;
import ai.lmtrain.models.BertForMaskedLM;
import ai.lmtrain.models.Gpt2Config;
import ai.lmtrain.models.Gpt2LMHeadModel;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.Model;
import ai.lmtrain.models.ModelConfig;
import ai.lmtrain.models.ModelInput;
import ai.lmtrain.models.ProblemType;
import ai.lmtrain.models.SequenceClassification;
import ai.lmtrain.models.SequenceClassifier;
import ai.lmtrain.models.TinyModels;
import ai.lmtrain.nativebridge.CudaDevices;
import ai.lmtrain.nativebridge.NativeCalls;
import ai.lmtrain.tensor.Arena;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.CpuBackend;
import ai.lmtrain.tensor.CudaBackend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.train.AdamW;
import ai.lmtrain.train.BatchLoss;
import ai.lmtrain.train.ClassificationObjective;
import ai.lmtrain.train.LanguageModelObjective;
import ai.lmtrain.train.LossWeighting;
import ai.lmtrain.train.TrainingObjective;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A tiny BERT and GPT-2 (head dim 32, the smallest the CUDA attention takes), as language models
 * and as sequence classifiers, trained for 20 AdamW steps on the GPU and on the CPU from the same weights and batch: fp32 losses agree within 1e-4
 * relative at every step, bf16 GPU losses within 3e-2 relative of the fp32 CPU losses. Skipped
 * without a CUDA build or device.
 */
@Tag("gpu")
class GpuTrainingParityTest {
  private static final int STEPS = 20;

  /** The tiny language model, or the tiny classifier (3 labels, single-label) on the same body. */
  private static TrainingObjective objective(String type, boolean classifier, Backend backend, DType dtype) {
    ModelConfig body = type.equals("bert")
        ? new BertConfig(TinyModels.VOCAB, 64, 2, 2, 128, "gelu", 0.0, 0.0, 12, 2, 0.02, 1e-12, 0, "absolute", true)
        : new Gpt2Config(TinyModels.VOCAB, 12, 64, 2, 2, null, "gelu_new", 0.0, 0.0, 0.0, 1e-5, 0.02, true, false,
            null, null, true);
    if (classifier) {
      SequenceClassifier m = SequenceClassifier.create(body, new SequenceClassification(
          SequenceClassification.defaultLabels(3), ProblemType.SINGLE_LABEL, type.equals("gpt2") ? 0 : null, null),
          backend, dtype);
      m.initialize(11);
      return new ClassificationObjective(m);
    }
    LanguageModel m = body instanceof BertConfig bert ? new BertForMaskedLM(bert, backend, dtype)
        : new Gpt2LMHeadModel((Gpt2Config) body, backend, dtype);
    m.initialize(11);
    return new LanguageModelObjective(m, LossWeighting.MEAN);
  }

  private static float[] losses(String type, boolean classifier, Backend backend, DType dtype) {
    ModelInput in = type.equals("bert") ? TinyModels.batch() : TinyModels.clmBatch();
    Batch batch = classifier ? TinyModels.classificationBatch(ProblemType.SINGLE_LABEL) : new Batch(in.batch(),
        in.seqLen(), in.inputIds(), in.attentionMask(), in.tokenTypeIds() == null ? new int[in.positions()]
        : in.tokenTypeIds(), in.labels());
    TrainingObjective objective = objective(type, classifier, backend, dtype);
    float[] out = new float[STEPS];
    try (Model m = objective.model(); Arena arena = new Arena(backend, 1 << 20);
        AdamW adamw = new AdamW(m.parameters(), 0.9f, 0.999f, 1e-8f, 0.01f, ParameterTable.Entry::decay)) {
      for (int step = 0; step < STEPS; step++) {
        m.parameters().zeroGrads();
        arena.reset();
        BatchLoss r = objective.run(new Pass(m.parameters(), arena, true, 0, 0), batch, true, 1f);
        out[step] = backend.downloadFloats(r.lossSum())[0] * r.meanScale();
        adamw.step(3e-3f, 1f);
      }
    }
    return out;
  }

  @ParameterizedTest
  @CsvSource({"bert, false", "gpt2, false", "bert, true", "gpt2, true"})
  void gpuTrainingMatchesCpuTraining(String type, boolean classifier) {
    assumeTrue(NativeCalls.hasCudaBackend(), "the native core was built without its CUDA backend");
    CudaDevices.Discovery found = CudaDevices.discover();
    assumeFalse(found.devices().isEmpty(), () -> "no CUDA device: " + found.problem());
    float[] cpu;
    try (CpuBackend backend = new CpuBackend()) {
      cpu = losses(type, classifier, backend, DType.F32);
    }
    try (CudaBackend backend = CudaBackend.open(0)) {
      float[] fp32 = losses(type, classifier, backend, DType.F32);
      float[] bf16 = losses(type, classifier, backend, DType.BF16);
      for (int i = 0; i < STEPS; i++) {
        assertEquals(cpu[i], fp32[i], 1e-4 * Math.abs(cpu[i]), type + " fp32 loss at step " + i);
        assertEquals(cpu[i], bf16[i], 3e-2 * Math.abs(cpu[i]), type + " bf16 loss at step " + i);
      }
    }
  }
}
