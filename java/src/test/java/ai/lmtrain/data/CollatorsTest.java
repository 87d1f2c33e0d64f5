package ai.lmtrain.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.tokenizers.TestData;
import ai.lmtrain.tokenizers.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CollatorsTest {

  private static final Tokenizer BERT = TestData.bert();

  private static List<int[]> examples(int n, SplitMix64 r) {
    List<int[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int len = 3 + r.nextInt(60);
      int[] e = new int[len];
      e[0] = 101;
      for (int t = 1; t < len - 1; t++) {
        e[t] = 1000 + r.nextInt(20000);
      }
      e[len - 1] = 102;
      out.add(e);
    }
    return out;
  }

  @Test
  void maskingRatesAndNeverSpecialOrPadding() {
    MlmCollator c = MlmCollator.forTokenizer(BERT);
    SplitMix64 rng = new SplitMix64(1);
    SplitMix64 data = new SplitMix64(2);
    long eligible = 0;
    long selected = 0;
    long masked = 0;
    long random = 0;
    long unchanged = 0;
    for (int step = 0; step < 200; step++) {
      List<int[]> ex = examples(16, data);
      Batch b = c.collate(ex, rng);
      for (int r = 0; r < b.batchSize(); r++) {
        int[] orig = ex.get(r);
        for (int t = 0; t < b.seqLen(); t++) {
          int i = r * b.seqLen() + t;
          boolean real = t < orig.length;
          assertEquals(real ? 1 : 0, b.attentionMask()[i]);
          boolean special = !real || orig[t] == 101 || orig[t] == 102;
          if (special) {
            assertEquals(Batch.IGNORE, b.labels()[i], "special or padded position selected");
            assertEquals(real ? orig[t] : 0, b.inputIds()[i]);
            continue;
          }
          eligible++;
          if (b.labels()[i] == Batch.IGNORE) {
            assertEquals(orig[t], b.inputIds()[i]);
            continue;
          }
          selected++;
          assertEquals(orig[t], b.labels()[i]);
          if (b.inputIds()[i] == 103) {
            masked++;
          } else if (b.inputIds()[i] == orig[t]) {
            unchanged++;
          } else {
            random++;
          }
        }
      }
    }
    double share = (double) selected / eligible;
    assertTrue(Math.abs(share - 0.15) < 0.01, "selected share " + share);
    assertTrue(Math.abs((double) masked / selected - 0.8) < 0.02, "mask share");
    assertTrue(Math.abs((double) random / selected - 0.1) < 0.02, "random share");
    assertTrue(Math.abs((double) unchanged / selected - 0.1) < 0.02, "unchanged share");
  }

  @Test
  void sameSeedSameMasks() {
    MlmCollator c = MlmCollator.forTokenizer(BERT);
    List<int[]> ex = examples(8, new SplitMix64(3));
    Batch a = c.collate(ex, new SplitMix64(9));
    Batch b = c.collate(ex, new SplitMix64(9));
    assertArrayEquals(a.inputIds(), b.inputIds());
    assertArrayEquals(a.labels(), b.labels());
  }

  @Test
  void clmLabelsMaskPaddingByPositionKeepingRealEos() {
    int eos = 50256;
    Batch b = new ClmCollator(eos, 0).collate(List.of(new int[] {5, 6, eos}, new int[] {7}), new SplitMix64(0));
    assertEquals(3, b.seqLen());
    assertArrayEquals(new int[] {5, 6, eos, 7, eos, eos}, b.inputIds());
    assertArrayEquals(new int[] {5, 6, eos, 7, -100, -100}, b.labels());
    assertArrayEquals(new int[] {1, 1, 1, 1, 0, 0}, b.attentionMask());
    assertEquals(4, new ClmCollator(eos, 4).collate(List.of(new int[] {1}), new SplitMix64(0)).seqLen());
  }
}
