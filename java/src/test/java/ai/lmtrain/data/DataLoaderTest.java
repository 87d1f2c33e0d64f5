package ai.lmtrain.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class DataLoaderTest {

  private static final TokenDataset DATA = new ChunkedDataset(List.of(IntStream.range(0, 1000).toArray()), 10);
  private static final MlmCollator MLM = new MlmCollator(3, 0, 1000, new int[] {0}, 0.3, 0.8, 0.1, 0);

  private static List<int[]> firstIds(DataLoader loader, int epochs) {
    List<int[]> out = new ArrayList<>();
    for (int e = 0; e < epochs; e++) {
      while (loader.hasNext()) {
        Batch b = loader.next();
        out.add(b.inputIds());
        out.add(b.labels());
      }
      loader.nextEpoch();
    }
    return out;
  }

  @Test
  void shuffleIsDeterministicPerSeed() {
    List<int[]> a = firstIds(new DataLoader(DATA, MLM, 8, true, 42, false), 2);
    List<int[]> b = firstIds(new DataLoader(DATA, MLM, 8, true, 42, false), 2);
    List<int[]> c = firstIds(new DataLoader(DATA, MLM, 8, true, 43, false), 2);
    for (int i = 0; i < a.size(); i++) {
      assertArrayEquals(a.get(i), b.get(i));
    }
    assertFalse(java.util.Arrays.equals(a.get(0), c.get(0)));
  }

  @Test
  void dropLastAndPacking() {
    DataLoader keep = new DataLoader(DATA, new ClmCollator(0, 0), 30, false, 1, false);
    DataLoader drop = new DataLoader(DATA, new ClmCollator(0, 0), 30, false, 1, true);
    assertEquals(4, keep.batchesPerEpoch());
    assertEquals(3, drop.batchesPerEpoch());
    Batch first = keep.next();
    assertEquals(30, first.batchSize());
    assertEquals(10, first.seqLen());
    assertArrayEquals(IntStream.range(0, 300).toArray(), first.inputIds());
    keep.next();
    keep.next();
    assertEquals(10, keep.next().batchSize());
    assertFalse(keep.hasNext());
  }

  @Test
  void resumeGivesIdenticalContinuation() {
    DataLoader full = new DataLoader(DATA, MLM, 7, true, 5, false);
    List<Batch> expected = new ArrayList<>();
    DataLoader partial = new DataLoader(DATA, MLM, 7, true, 5, false);
    for (int i = 0; i < 10; i++) {
      partial.next();
    }
    partial.nextEpoch();
    partial.next();
    partial.next();
    LoaderState saved = partial.state();
    for (int i = 0; i < 10; i++) {
      full.next();
    }
    full.nextEpoch();
    full.next();
    full.next();
    while (full.hasNext()) {
      expected.add(full.next());
    }
    DataLoader resumed = new DataLoader(DATA, MLM, 7, true, 5, false);
    resumed.restore(saved);
    for (Batch e : expected) {
      Batch r = resumed.next();
      assertArrayEquals(e.inputIds(), r.inputIds());
      assertArrayEquals(e.labels(), r.labels());
    }
    assertFalse(resumed.hasNext());
  }
}
