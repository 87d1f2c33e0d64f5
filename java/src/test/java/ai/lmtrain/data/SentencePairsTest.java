package ai.lmtrain.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.tokenizers.TestData;
import ai.lmtrain.tokenizers.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The BERT-paper sentence pairs: label statistics (each label 1/2 within a 4-sigma binomial bound),
 * where A and B come from (a random NSP segment never from A's document; consecutive and in order,
 * or swapped for SOP), lengths, the [CLS] A [SEP] B [SEP] layout, and the collator's masking.
 *
 * <p>The synthetic documents encode each token's provenance: token = document * 100000 + its
 * position in the document's token stream + 1.
 */
class SentencePairsTest {
  private static final int MAX_LENGTH = 48;

  /** 40 documents of 1..24 sentences of 1..18 tokens each. */
  private static List<List<int[]>> documents(int count, long seed) {
    SplitMix64 r = new SplitMix64(seed);
    List<List<int[]>> docs = new ArrayList<>();
    for (int d = 0; d < count; d++) {
      List<int[]> sentences = new ArrayList<>();
      int position = 0;
      int n = 1 + r.nextInt(24);
      for (int s = 0; s < n; s++) {
        int[] sentence = new int[1 + r.nextInt(18)];
        for (int t = 0; t < sentence.length; t++) {
          sentence[t] = d * 100_000 + position++ + 1;
        }
        sentences.add(sentence);
      }
      docs.add(sentences);
    }
    return docs;
  }

  private static int document(int token) {
    return (token - 1) / 100_000;
  }

  private static int position(int token) {
    return (token - 1) % 100_000;
  }

  /** The tokens are one run of consecutive positions of one document. */
  private static void assertContiguous(int[] tokens, String what) {
    for (int i = 1; i < tokens.length; i++) {
      assertEquals(tokens[i - 1] + 1, tokens[i], what + " is not a contiguous run: " + Arrays.toString(tokens));
    }
  }

  /** |ones - n/2| <= 4 sigma of Binomial(n, 1/2). */
  private static void assertHalf(long ones, long n, String what) {
    double sigma = Math.sqrt(n * 0.25);
    assertTrue(Math.abs(ones - n / 2.0) <= 4 * sigma, what + ": " + ones + " of " + n + " (4 sigma = " + 4 * sigma + ")");
  }

  @Test
  void nspLabelsAreHalfRandomAndARandomSegmentNeverComesFromTheSameDocument() {
    List<SentencePairs.Pair> pairs = SentencePairs.sample(documents(40, 1), MAX_LENGTH, SentencePairs.Task.NSP, 8, 7);
    assertTrue(pairs.size() > 1000, "enough pairs for the statistics: " + pairs.size());
    long random = 0;
    for (SentencePairs.Pair p : pairs) {
      assertTrue(p.a().length >= 1 && p.b().length >= 1, "empty segment");
      assertTrue(p.a().length + p.b().length <= MAX_LENGTH - 3, "too long: " + (p.a().length + p.b().length));
      assertContiguous(p.a(), "A");
      assertContiguous(p.b(), "B");
      assertEquals(p.documentA(), document(p.a()[0]));
      assertEquals(p.documentB(), document(p.b()[0]));
      if (p.label() == 1) {
        random++;
        assertNotEquals(p.documentA(), p.documentB(), "a random B from A's own document");
      } else {
        assertEquals(0, p.label());
        assertEquals(p.documentA(), p.documentB());
        assertTrue(position(p.a()[p.a().length - 1]) < position(p.b()[0]), "IsNext B does not follow A");
      }
    }
    assertHalf(random, pairs.size(), "NotNext pairs");
  }

  @Test
  void sopLabelsAreHalfSwappedAndBothSegmentsComeFromOneDocument() {
    List<SentencePairs.Pair> pairs = SentencePairs.sample(documents(40, 2), MAX_LENGTH, SentencePairs.Task.SOP, 8, 11);
    long swapped = 0;
    for (SentencePairs.Pair p : pairs) {
      assertEquals(p.documentA(), p.documentB());
      assertEquals(p.documentA(), document(p.a()[0]));
      assertEquals(p.documentA(), document(p.b()[0]));
      assertTrue(p.a().length + p.b().length <= MAX_LENGTH - 3);
      boolean inOrder = position(p.a()[p.a().length - 1]) < position(p.b()[0]);
      boolean reversed = position(p.b()[p.b().length - 1]) < position(p.a()[0]);
      assertTrue(p.label() == 0 ? inOrder : reversed, "label " + p.label() + " but A " + Arrays.toString(p.a())
          + ", B " + Arrays.toString(p.b()));
      swapped += p.label();
    }
    assertHalf(swapped, pairs.size(), "swapped pairs");
  }

  @Test
  void aOneSentenceDocumentIsCutInTwoAtATokenBoundary() {
    List<List<int[]>> docs = List.of(List.of(new int[] {1, 2, 3, 4, 5, 6, 7}), List.of(new int[] {100001, 100002}));
    List<SentencePairs.Pair> pairs = SentencePairs.sample(docs, MAX_LENGTH, SentencePairs.Task.SOP, 50, 3);
    assertEquals(100, pairs.size(), "one pair per document and round");
    for (SentencePairs.Pair p : pairs) {
      int[] first = p.label() == 0 ? p.a() : p.b();
      int[] second = p.label() == 0 ? p.b() : p.a();
      int[] joined = new int[first.length + second.length];
      System.arraycopy(first, 0, joined, 0, first.length);
      System.arraycopy(second, 0, joined, first.length, second.length);
      assertArrayEquals(docs.get(p.documentA()).get(0), joined, "the two halves make the sentence");
    }
    // a document of one single-token sentence cannot form a pair
    assertEquals(1, SentencePairs.sample(List.of(List.of(new int[] {9}), List.of(new int[] {100001, 100002})),
        MAX_LENGTH, SentencePairs.Task.SOP, 1, 3).size());
  }

  @Test
  void longSegmentsAreTruncatedToTheContext() {
    int[] longSentence = new int[200];
    int[] other = new int[150];
    for (int i = 0; i < 200; i++) {
      longSentence[i] = i + 1;
    }
    for (int i = 0; i < 150; i++) {
      other[i] = 100_001 + i;
    }
    List<SentencePairs.Pair> pairs = SentencePairs.sample(List.of(List.of(longSentence, longSentence.clone()),
        List.of(other)), 16, SentencePairs.Task.NSP, 20, 5);
    for (SentencePairs.Pair p : pairs) {
      assertTrue(p.a().length + p.b().length <= 13, "longer than 16 - 3: " + (p.a().length + p.b().length));
      if (p.documentA() == 0) { // A and B each from a 200-token sentence: both truncated, the longer first
        assertTrue(Math.abs(p.a().length - p.b().length) <= 1, p.a().length + " vs " + p.b().length);
      }
    }
  }

  @Test
  void theSameSeedGivesTheSamePairs() {
    List<List<int[]>> docs = documents(10, 4);
    List<SentencePairs.Pair> a = SentencePairs.sample(docs, MAX_LENGTH, SentencePairs.Task.NSP, 2, 99);
    List<SentencePairs.Pair> b = SentencePairs.sample(docs, MAX_LENGTH, SentencePairs.Task.NSP, 2, 99);
    List<SentencePairs.Pair> c = SentencePairs.sample(docs, MAX_LENGTH, SentencePairs.Task.NSP, 2, 100);
    assertEquals(a.size(), b.size());
    for (int i = 0; i < a.size(); i++) {
      assertArrayEquals(a.get(i).a(), b.get(i).a());
      assertArrayEquals(a.get(i).b(), b.get(i).b());
      assertEquals(a.get(i).label(), b.get(i).label());
    }
    assertNotEquals(a.stream().map(p -> Arrays.toString(p.b())).toList(),
        c.stream().map(p -> Arrays.toString(p.b())).toList(), "another seed, other pairs");
  }

  @Test
  void badInputsGiveClearErrors() {
    IllegalArgumentException one = assertThrows(IllegalArgumentException.class,
        () -> SentencePairs.sample(documents(1, 5), MAX_LENGTH, SentencePairs.Task.NSP, 1, 1));
    assertEquals("next sentence prediction needs at least 2 documents (a random second segment comes from another"
        + " document), got 1; separate documents with blank lines", one.getMessage());
    assertEquals("sentence pairs need a context length of at least 5 ([CLS] A [SEP] B [SEP]), got 4",
        assertThrows(IllegalArgumentException.class,
            () -> SentencePairs.sample(documents(3, 5), 4, SentencePairs.Task.SOP, 1, 1)).getMessage());
    assertEquals("no sentence to build sop pairs from", assertThrows(IllegalArgumentException.class,
        () -> SentencePairs.sample(List.of(List.of(new int[0])), MAX_LENGTH, SentencePairs.Task.SOP, 1, 1))
        .getMessage());
  }

  /**
   * Real text through a BERT tokenizer: [CLS] A [SEP] B [SEP] with segment ids 0 then 1, the
   * label as the sequence target, and the masked-LM collator never selecting [CLS], [SEP] or padding.
   */
  @Test
  void examplesHaveTheBertPairLayoutAndTheCollatorMasksOnlyTheirText() {
    Tokenizer bert = TestData.bert();
    List<String> documents = List.of(
        "The lion is the king of the savanna.\nElephants are the largest land animals.\nZebras have stripes.",
        "The Nile is the longest river.\nThe Sahara is the largest hot desert.\nCoral reefs exist along the coast.",
        "Birds fly from tree to tree.\nFish swim in the rivers and lakes.\nMarkets sell fruits and vegetables.");
    ClassificationExamples examples = SentencePairs.examples(bert, documents, 32, SentencePairs.Task.NSP, 20, 1);
    int cls = bert.tokenToId("[CLS]").getAsInt();
    int sep = bert.tokenToId("[SEP]").getAsInt();
    for (int i = 0; i < examples.size(); i++) {
      int[] packed = examples.get(i);
      int n = packed[0];
      int[] ids = Arrays.copyOfRange(packed, 1, 1 + n);
      int[] types = Arrays.copyOfRange(packed, 1 + n, 1 + 2 * n);
      float label = Float.intBitsToFloat(packed[1 + 2 * n]);
      assertTrue(label == 0f || label == 1f);
      assertTrue(n <= 32);
      assertEquals(cls, ids[0]);
      assertEquals(sep, ids[n - 1]);
      int firstSep = Arrays.stream(ids).boxed().toList().indexOf(sep);
      assertTrue(firstSep > 1 && firstSep < n - 2, "A and B are both non-empty");
      for (int t = 0; t < n; t++) {
        assertEquals(t <= firstSep ? 0 : 1, types[t], "segment id at " + t);
      }
    }
    MlmCollator mlm = MlmCollator.forTokenizer(bert).withProbability(0.5);
    DataLoader loader = new DataLoader(examples, SentencePairs.collator(mlm), 4, true, 3, false);
    long masked = 0;
    while (loader.hasNext()) {
      Batch b = loader.next();
      assertEquals(b.batchSize(), b.sequenceTargets().length);
      for (float label : b.sequenceTargets()) {
        assertTrue(label == 0f || label == 1f);
      }
      for (int i = 0; i < b.inputIds().length; i++) {
        if (b.attentionMask()[i] == 0) {
          assertEquals(Batch.IGNORE, b.labels()[i], "padding was masked");
          assertEquals(0, b.tokenTypeIds()[i], "padding has segment id 0");
        } else if (b.labels()[i] != Batch.IGNORE) {
          masked++;
          assertTrue(b.labels()[i] != cls && b.labels()[i] != sep, "[CLS] or [SEP] was masked");
        }
      }
    }
    assertTrue(masked > 0);
  }
}
