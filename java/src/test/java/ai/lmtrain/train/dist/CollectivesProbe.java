package ai.lmtrain.train.dist;

import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.DeviceBuffer;
import ai.lmtrain.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * One rank of {@link MpiCollectivesTest}'s job (run under mpirun): checks every collective of the
 * MPI communicator against values computed here, prints "rank R: collectives ok" or the first
 * mismatch, and exits 0 or 1.
 */
public final class CollectivesProbe {
  private CollectivesProbe() {}

  public static void main(String[] args) {
    try (DistributedRuntime runtime = DistributedRuntime.open(Launch.detect(System.getenv()), "cpu", System.getenv())) {
      Communicator c = runtime.communicator();
      check(runtime.backend(), c, Integer.parseInt(args[0]));
      System.out.println("rank " + c.rank() + ": collectives ok");
    } catch (AssertionError | RuntimeException e) {
      System.out.println("probe failed: " + e);
      System.exit(1);
    }
  }

  private static void check(Backend backend, Communicator c, int expectedSize) {
    int r = c.rank();
    int n = c.worldSize();
    require(n == expectedSize, "world size " + n + ", expected " + expectedSize);
    // F32 sum over a buffer of more than a million elements: small integers, exact in any order.
    int count = 1_000_003;
    try (DeviceBuffer buf = backend.allocate(count * 4L)) {
      Tensor t = buf.tensor(DType.F32, count);
      float[] mine = new float[count];
      for (int i = 0; i < count; i++) {
        mine[i] = (r + 1) * (i % 7);
      }
      backend.upload(t, mine);
      c.allReduce(t, ReduceOp.SUM);
      float[] got = backend.downloadFloats(t);
      float ranks = n * (n + 1) / 2f;
      for (int i = 0; i < count; i++) {
        require(got[i] == ranks * (i % 7), "F32 sum [" + i + "] = " + got[i]);
      }
      // Random floats: the sum's rounding depends on the order, but every rank must get the same bits.
      SplittableRandom random = new SplittableRandom(r);
      for (int i = 0; i < count; i++) {
        mine[i] = (float) random.nextGaussian();
      }
      backend.upload(t, mine);
      c.allReduce(t, ReduceOp.SUM);
      long[] hash = {Arrays.hashCode(backend.downloadFloats(t))};
      long[] low = hash.clone();
      c.allReduce(hash, ReduceOp.MAX);
      c.allReduce(low, ReduceOp.MIN);
      require(hash[0] == low[0], "ranks got different bits from the same F32 all-reduce");
      // Broadcast from the last rank.
      Arrays.fill(mine, r);
      backend.upload(t, mine);
      c.broadcast(t, n - 1);
      float[] sent = backend.downloadFloats(t);
      require(sent[0] == n - 1 && sent[count - 1] == n - 1, "broadcast from rank " + (n - 1) + " gave " + sent[0]);
    }
    // I32 min/max and I64 sums beyond 32 bits on device buffers.
    try (DeviceBuffer buf = backend.allocate(64)) {
      Tensor ints = buf.tensor(DType.I32, 2);
      backend.upload(ints, new int[] {10 - r, -r});
      c.allReduce(ints, ReduceOp.MIN);
      require(Arrays.equals(backend.downloadInts(ints), new int[] {10 - (n - 1), -(n - 1)}), "I32 min");
      backend.upload(ints, new int[] {r, 5});
      c.allReduce(ints, ReduceOp.MAX);
      require(Arrays.equals(backend.downloadInts(ints), new int[] {n - 1, 5}), "I32 max");
      Tensor longs = buf.at(16, DType.I64, 2);
      ByteBuffer bytes = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder());
      bytes.putLong(1L << 40).putLong(r);
      backend.uploadBytes(longs, bytes.array());
      c.allReduce(longs, ReduceOp.SUM);
      ByteBuffer back = ByteBuffer.wrap(backend.downloadBytes(longs)).order(ByteOrder.nativeOrder());
      require(back.getLong() == n * (1L << 40) && back.getLong() == (long) n * (n - 1) / 2, "I64 sum");
    }
    // Host doubles and longs.
    double[] values = {0.5 * r, -r};
    c.allReduce(values, ReduceOp.SUM);
    require(values[0] == 0.25 * n * (n - 1) && values[1] == -(double) n * (n - 1) / 2, "F64 sum " + values[0]);
    long[] ids = {r};
    c.allReduce(ids, ReduceOp.MAX);
    require(ids[0] == n - 1, "I64 max");
    c.barrier();
    // DataParallel's set-up agreement: the odd ranks fail, every rank learns that rank 1 is the first.
    int first = new DataParallel(c).firstFailedRank(r % 2 == 1);
    require(first == (n > 1 ? 1 : -1), "first failed rank " + first);
  }

  private static void require(boolean ok, String what) {
    if (!ok) {
      throw new AssertionError(what);
    }
  }
}
