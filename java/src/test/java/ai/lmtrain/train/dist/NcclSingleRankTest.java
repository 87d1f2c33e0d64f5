package ai.lmtrain.train.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.lmtrain.data.ChunkedDataset;
import ai.lmtrain.data.ClmCollator;
import ai.lmtrain.data.DataLoader;
import ai.lmtrain.models.Gpt2Config;
import ai.lmtrain.models.Gpt2LMHeadModel;
import ai.lmtrain.models.TinyModels;
import ai.lmtrain.nativebridge.CudaDevices;
import ai.lmtrain.nativebridge.NativeCalls;
import ai.lmtrain.nativebridge.NativeException;
import ai.lmtrain.tensor.CudaBackend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.DeviceBuffer;
import ai.lmtrain.tensor.Tensor;
import ai.lmtrain.train.LanguageModelObjective;
import ai.lmtrain.train.LossWeighting;
import ai.lmtrain.train.Trainer;
import ai.lmtrain.train.TrainingArguments;
import ai.lmtrain.train.TrainingListener;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The NCCL engine on one GPU (a clique of one rank: multi-GPU runs cannot be tested on a
 * single-GPU machine): its collectives leave one rank's buffers as they are, and a tiny GPT-2
 * trained 10 steps through the data-parallel path over NCCL has the plain GPU run's losses (1e-6
 * relative) and weights (1e-5 relative). Skipped without a CUDA build, a GPU, or a loadable NCCL
 * ({@code LMTRAIN_NCCL_LIBRARY}).
 */
@Tag("gpu")
class NcclSingleRankTest {
  private static final int STEPS = 10;

  @Test
  void oneRankOverNcclEqualsThePlainGpuRun() {
    assumeTrue(NativeCalls.hasCudaBackend(), "the native core was built without its CUDA backend");
    CudaDevices.Discovery found = CudaDevices.discover();
    assumeFalse(found.devices().isEmpty(), () -> "no CUDA device: " + found.problem());
    String library = System.getenv(DistributedRuntime.NCCL_LIBRARY_ENV);
    byte[] id;
    try {
      id = NativeCommunicator.ncclUniqueId(library);
    } catch (NativeException e) {
      assumeTrue(false, "NCCL cannot be loaded: " + e.getMessage());
      return;
    }
    try (CudaBackend backend = CudaBackend.open(0)) {
      List<Double> plain = new ArrayList<>();
      float[] plainWeights = train(backend, DataParallel.SINGLE, plain);
      try (NativeCommunicator nccl = NativeCommunicator.nccl(backend.nativeContext(), backend.device(), id, 0, 1,
          library, 60, null)) {
        checkCollectives(backend, nccl);
        List<Double> overNccl = new ArrayList<>();
        float[] weights = train(backend, new DataParallel(nccl), overNccl);
        assertEquals(plain.size(), overNccl.size());
        for (int i = 0; i < plain.size(); i++) {
          assertEquals(plain.get(i), overNccl.get(i), 1e-6 * Math.abs(plain.get(i)), "loss at step " + (i + 1));
        }
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < weights.length; i++) {
          diff += (double) (weights[i] - plainWeights[i]) * (weights[i] - plainWeights[i]);
          norm += (double) plainWeights[i] * plainWeights[i];
        }
        assertEquals(0, Math.sqrt(diff / norm), 1e-5, "relative difference of the final weights");
      }
    }
  }

  private static void checkCollectives(CudaBackend backend, NativeCommunicator nccl) {
    assertEquals(0, nccl.rank());
    assertEquals(1, nccl.worldSize());
    float[] values = new float[100_003];
    for (int i = 0; i < values.length; i++) {
      values[i] = i * 0.5f - 7;
    }
    try (DeviceBuffer buf = backend.allocate(values.length * 4L)) {
      Tensor t = buf.tensor(DType.F32, values.length);
      backend.upload(t, values);
      nccl.allReduce(t, ReduceOp.SUM);
      nccl.broadcast(t, 0);
      assertArrayEquals(values, backend.downloadFloats(t));
    }
    double[] host = {1.5, -2};
    nccl.allReduce(host, ReduceOp.MAX);
    assertArrayEquals(new double[] {1.5, -2}, host);
    nccl.barrier();
  }

  /** 10 steps of a tiny GPT-2 (head dim 32) on random tokens; returns the final master weights. */
  private static float[] train(CudaBackend backend, DataParallel parallel, List<Double> losses) {
    Gpt2Config config = new Gpt2Config(TinyModels.VOCAB, 16, 64, 2, 2, null, "gelu_new", 0.1, 0.1, 0.1, 1e-5, 0.02,
        true, false, null, null, true);
    int[] tokens = new SplittableRandom(3).ints(4 * 16 * STEPS, 4, TinyModels.VOCAB).toArray();
    DataLoader loader = new DataLoader(new ChunkedDataset(List.of(tokens), 16), new ClmCollator(0, 0), 4, false, 3,
        true);
    TrainingArguments args = TrainingArguments.defaults().copy(Map.of("maxSteps", STEPS, "trainBatchSize", 4,
        "learningRate", 3e-3, "loggingSteps", 1, "evalStrategy", "no", "saveStrategy", "no", "seed", 3L));
    TrainingListener record = new TrainingListener() {
      @Override
      public void onLog(TrainLog log) {
        losses.add(log.loss());
      }
    };
    try (Gpt2LMHeadModel model = new Gpt2LMHeadModel(config, backend, DType.F32)) {
      model.initialize(3);
      parallel.start(model.parameters());
      try (Trainer trainer = new Trainer(new LanguageModelObjective(model, LossWeighting.MEAN), args, loader, null,
          record, parallel)) {
        trainer.train();
      }
      return backend.downloadFloats(model.parameters().masterAll());
    }
  }
}
