package ai.lmtrain.train.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.data.Batch;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.models.BertConfig;
import ai.lmtrain.models.BertForMaskedLM;
import ai.lmtrain.models.Gpt2Config;
import ai.lmtrain.models.Gpt2LMHeadModel;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.TinyModels;
import ai.lmtrain.tensor.Arena;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.CpuBackend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.Tensor;
import ai.lmtrain.train.BatchLoss;
import ai.lmtrain.train.LanguageModelObjective;
import ai.lmtrain.train.LossWeighting;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * What makes N ranks equal one process, checked in one JVM without MPI: the ranks' rows partition
 * a global batch; with dropout on, the sum of the ranks' gradients
 * ({@link LanguageModelObjective#runRows}) equals the gradient of the global batch (within fp32
 * summation order, 1e-5 of the largest gradient) and the sum of their losses its loss (1e-6
 * relative), for the mean loss and a per-sample weighting; the plain run takes whole batches.
 */
class DataParallelTest {
  private static final long SEED = 5;
  private static final long DROPOUT_OFFSET = 3L << 40;

  /** A rank of a job of {@code size} ranks, without collectives. */
  private record Rank(int rank, int worldSize) implements Communicator {
    @Override
    public void allReduce(Tensor buffer, ReduceOp op) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void allReduce(double[] values, ReduceOp op) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void allReduce(long[] values, ReduceOp op) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void broadcast(Tensor buffer, int root) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void barrier() {}

    @Override
    public void abort(int exitCode) {}

    @Override
    public void close() {}
  }

  @Test
  void bertSharesSumToTheGlobalBatchWithDropout() {
    BertConfig dropout = new BertConfig(TinyModels.VOCAB, 16, 2, 2, 40, "gelu", 0.1, 0.1, 12, 2, 0.02, 1e-12, 0,
        "absolute", true);
    for (int ranks : new int[] {2, 3}) {
      assertSharesSumToTheGlobalBatch(backend -> new BertForMaskedLM(dropout, backend, DType.F32), batch(5, false),
          ranks, LossWeighting.MEAN);
    }
  }

  @Test
  void gpt2SharesSumToTheGlobalBatchWithDropoutAndPerSampleWeights() {
    Gpt2Config dropout = new Gpt2Config(TinyModels.VOCAB, 12, 16, 2, 2, null, "gelu_new", 0.1, 0.1, 0.1, 1e-5, 0.02,
        true, false, null, null, true);
    assertSharesSumToTheGlobalBatch(backend -> new Gpt2LMHeadModel(dropout, backend, DType.F32), batch(5, true), 2,
        LossWeighting.MEAN);
    assertSharesSumToTheGlobalBatch(backend -> new Gpt2LMHeadModel(dropout, backend, DType.F32), batch(5, true), 2,
        LossWeighting.keyTokens(new int[] {7, 8, 9}, 0.5));
  }

  @Test
  void sharesPartitionTheRowsAndAShortBatchLeavesARankEmpty() {
    Batch global = batch(5, true);
    int next = 0;
    for (int r = 0; r < 3; r++) {
      DataParallel.Rows rows = new DataParallel(new Rank(r, 3)).rows(global.batchSize());
      assertEquals(next, rows.first());
      Batch mine = global.rows(rows.first(), rows.count());
      int t = global.seqLen();
      assertArrayEquals(Arrays.copyOfRange(global.inputIds(), next * t, (next + rows.count()) * t), mine.inputIds());
      assertArrayEquals(Arrays.copyOfRange(global.labels(), next * t, (next + rows.count()) * t), mine.labels());
      next += rows.count();
    }
    assertEquals(global.batchSize(), next);
    assertTrue(new DataParallel(new Rank(0, 3)).rows(2).isEmpty());
    assertEquals(new DataParallel.Rows(1, 1, 2), new DataParallel(new Rank(2, 3)).rows(2));
    Batch classified = new Batch(2, 1, new int[] {5, 6}, new int[] {1, 1}, new int[2], new int[] {-100, -100},
        new float[] {1, 0, 0, 1});
    assertArrayEquals(new float[] {0, 1}, classified.rows(1, 1).sequenceTargets());
  }

  @Test
  void thePlainRunTakesWholeBatches() {
    DataParallel.Rows rows = DataParallel.SINGLE.rows(3);
    assertTrue(rows.whole());
    assertEquals(new DataParallel.Rows(0, 3, 3), rows);
    assertTrue(new DataParallel(new Rank(0, 1)).rows(3).whole(), "one real rank trains whole batches too");
  }

  @Test
  void aPassOverSomeRowsTakesTheirDropoutCounters() {
    try (Backend backend = new CpuBackend(); LanguageModel model = TinyModels.gpt2(backend, SEED);
        Arena arena = new Arena(backend, 1 << 16)) {
      Pass whole = new Pass(model.parameters(), arena, true, SEED, 100);
      Pass rows = new Pass(model.parameters(), arena, true, SEED, 100, 2, 3, 5);
      assertEquals(100, whole.takeDropoutCounters(5 * 7));
      assertEquals(100 + 2 * 7, rows.takeDropoutCounters(3 * 7));
      assertEquals(100 + 5 * 7, whole.takeDropoutCounters(5 * 4));
      assertEquals(100 + 5 * 7 + 2 * 4, rows.takeDropoutCounters(3 * 4));
      assertThrows(IllegalArgumentException.class, () -> rows.takeDropoutCounters(10));
      assertThrows(IllegalArgumentException.class, () -> new Pass(model.parameters(), arena, true, SEED, 0, 3, 3, 5));
    }
  }

  // ----------------------------------------------------------------

  private static void assertSharesSumToTheGlobalBatch(Function<Backend, LanguageModel> factory, Batch global,
      int ranks, LossWeighting weighting) {
    try (Backend backend = new CpuBackend(); LanguageModel model = factory.apply(backend);
        Arena arena = new Arena(backend, 1 << 20)) {
      model.initialize(SEED);
      LanguageModelObjective objective = new LanguageModelObjective(model, weighting);
      var params = model.parameters();
      params.zeroGrads();
      arena.reset();
      BatchLoss whole = objective.run(new Pass(params, arena, true, SEED, DROPOUT_OFFSET), global, true, 1f);
      double wholeLoss = backend.downloadFloats(whole.lossSum())[0] * (double) whole.meanScale();
      float[] expected = backend.downloadFloats(params.gradAll());
      double[] summed = new double[expected.length];
      double lossSum = 0;
      for (int r = 0; r < ranks; r++) {
        DataParallel.Rows rows = new DataParallel(new Rank(r, ranks)).rows(global.batchSize());
        params.zeroGrads();
        arena.reset();
        BatchLoss part = objective.runRows(rows.trainingPass(params, arena, SEED, DROPOUT_OFFSET), global, rows.first(),
            rows.count(), true, 1f);
        if (part.scored() > 0) {
          lossSum += backend.downloadFloats(part.lossSum())[0] * (double) part.meanScale();
        }
        float[] g = backend.downloadFloats(params.gradAll());
        for (int i = 0; i < g.length; i++) {
          summed[i] += g[i];
        }
      }
      assertEquals(wholeLoss, lossSum, 1e-6 * Math.abs(wholeLoss), ranks + " ranks: loss");
      double largest = 0;
      for (float g : expected) {
        largest = Math.max(largest, Math.abs(g));
      }
      for (int i = 0; i < expected.length; i++) {
        assertEquals(expected[i], summed[i], 1e-5 * largest, ranks + " ranks: gradient element " + i);
      }
    }
  }

  /** {@code rows} sequences of 9 tokens with varied padding; MLM-style or causal labels. */
  private static Batch batch(int rows, boolean causal) {
    int t = 9;
    SplittableRandom random = new SplittableRandom(rows);
    int[] ids = new int[rows * t];
    int[] mask = new int[rows * t];
    int[] labels = new int[rows * t];
    for (int b = 0; b < rows; b++) {
      int length = t - (b % 3);
      for (int i = 0; i < t; i++) {
        int k = b * t + i;
        boolean real = i < length;
        ids[k] = real ? random.nextInt(4, TinyModels.VOCAB) : 0;
        mask[k] = real ? 1 : 0;
        labels[k] = !real ? -100 : causal ? ids[k] : random.nextInt(4) == 0 ? ids[k] : -100;
      }
    }
    return new Batch(rows, t, ids, mask, new int[rows * t], labels);
  }
}
