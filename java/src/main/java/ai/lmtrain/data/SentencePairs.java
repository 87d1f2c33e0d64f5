package ai.lmtrain.data;

import ai.lmtrain.tokenizers.EncodeOptions;
import ai.lmtrain.tokenizers.PostProcessor;
import ai.lmtrain.tokenizers.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Sentence-pair pre-training examples from documents, as the BERT paper builds them
 * (google-research/bert create_pretraining_data.py): {@code [CLS] A [SEP] B [SEP]} with segment
 * ids 0 (through the first [SEP]) and 1, and a sequence label for the {@link Task}.
 *
 * <p>Per document, a target length is drawn: {@code maxLength - 3} tokens, or with probability
 * {@link #SHORT_SEQUENCE_PROBABILITY} a uniform length in [2, maxLength - 3]. Sentences (a
 * document's lines) are gathered into a chunk until it reaches the target or the document ends;
 * A is the chunk's first 1..k-1 sentences (uniform), and:
 * <ul>
 *   <li>NSP: with probability 1/2 B is the rest of the chunk (label 0, IsNext); otherwise B is a
 *       run of sentences from a uniformly chosen <em>other</em> document, starting at a uniform
 *       sentence, up to the target length (label 1, NotNext), and the chunk's unused sentences go
 *       back into the document;</li>
 *   <li>SOP (ALBERT): B is the rest of the chunk, and with probability 1/2 A and B are swapped
 *       (label 1; label 0 keeps the order).</li>
 * </ul>
 * Then the longer of A and B loses a token from its front or back (1/2 each) until both fit in
 * {@code maxLength - 3}. The reference script draws a random document ten times and may still
 * take the same one, and forces NotNext whenever a chunk holds one sentence; here the label is
 * drawn first, exactly 1/2, and a random B never comes from A's document: a one-sentence chunk
 * takes the document's next sentence as B, or at a document's end is cut in two at a uniform token
 * boundary; a chunk of one single-token sentence at a document's end yields no example.
 *
 * <p>Examples are built once, from a {@link SplitMix64} seed, {@code dupeFactor} times over every
 * document (the reference script's dupe_factor), so a run rebuilds the same examples; the masked-LM
 * masks are drawn per batch by {@link #collator}.
 */
public final class SentencePairs {
  /** The BERT paper's share of examples with a shorter target length. */
  public static final double SHORT_SEQUENCE_PROBABILITY = 0.1;

  /** The sentence-level objective. */
  public enum Task {
    /** Next sentence prediction (BERT): label 0 IsNext, 1 a random segment from another document. */
    NSP,
    /** Sentence order prediction (ALBERT): label 0 in order, 1 swapped. */
    SOP;

    /** "nsp" or "sop", as in metric names. */
    public String key() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * One example before the special tokens are added.
   *
   * @param a the first segment's token ids
   * @param b the second segment's token ids
   * @param label 0 or 1 (see {@link Task})
   * @param documentA index of the document A comes from
   * @param documentB index of the document B comes from (differs from documentA exactly for NSP's label 1)
   */
  public record Pair(int[] a, int[] b, int label, int documentA, int documentB) {}

  private final List<List<int[]>> documents;
  private final int maxTokens;
  private final Task task;
  private final SplitMix64 rng;
  private final List<Pair> pairs = new ArrayList<>();

  private SentencePairs(List<List<int[]>> documents, int maxLength, Task task, long seed) {
    this.documents = documents;
    this.maxTokens = maxLength - 3;
    this.task = task;
    this.rng = new SplitMix64(seed);
  }

  /**
   * The pairs of {@code documents} (each a list of sentences' token ids, without special tokens).
   *
   * @param maxLength tokens per example with [CLS] and the two [SEP], at least 5
   * @param dupeFactor how many times every document is used, at least 1
   * @throws IllegalArgumentException for bad sizes, no sentence at all, or NSP with fewer than two
   *     non-empty documents
   */
  public static List<Pair> sample(List<List<int[]>> documents, int maxLength, Task task, int dupeFactor, long seed) {
    if (maxLength < 5) {
      throw new IllegalArgumentException("sentence pairs need a context length of at least 5 ([CLS] A [SEP] B [SEP]),"
          + " got " + maxLength);
    }
    if (dupeFactor < 1) {
      throw new IllegalArgumentException("dupe factor must be at least 1, got " + dupeFactor);
    }
    List<List<int[]>> nonEmpty = new ArrayList<>();
    for (List<int[]> document : documents) {
      List<int[]> sentences = document.stream().filter(s -> s.length > 0).toList();
      if (!sentences.isEmpty()) {
        nonEmpty.add(sentences);
      }
    }
    if (nonEmpty.isEmpty()) {
      throw new IllegalArgumentException("no sentence to build " + task.key() + " pairs from");
    }
    if (task == Task.NSP && nonEmpty.size() < 2) {
      throw new IllegalArgumentException("next sentence prediction needs at least 2 documents (a random second"
          + " segment comes from another document), got " + nonEmpty.size() + "; separate documents with blank lines");
    }
    SentencePairs builder = new SentencePairs(nonEmpty, maxLength, task, seed);
    for (int round = 0; round < dupeFactor; round++) {
      for (int d = 0; d < nonEmpty.size(); d++) {
        builder.fromDocument(d);
      }
    }
    return builder.pairs;
  }

  /**
   * The examples of {@code documents} (texts whose lines are their sentences, as {@link
   * TextSource#documents} gives them) in the packed layout of {@link ClassificationExamples}:
   * {@code [CLS] A [SEP] B [SEP]}, segment ids, the label as the one target.
   *
   * @throws IllegalArgumentException when the tokenizer has no [CLS] ... [SEP] pair template
   */
  public static ClassificationExamples examples(Tokenizer tokenizer, List<String> documents, int maxLength, Task task,
      int dupeFactor, long seed) {
    PostProcessor specials = tokenizer.postProcessor();
    if (specials.isNone()) {
      throw new IllegalArgumentException(task.key() + " pairs need a tokenizer with [CLS] and [SEP] (a BERT"
          + " WordPiece tokenizer)");
    }
    EncodeOptions plain = EncodeOptions.defaults().withAddSpecialTokens(false);
    List<List<int[]>> tokenized = new ArrayList<>(documents.size());
    for (String document : documents) {
      tokenized.add(document.lines().map(line -> tokenizer.encode(line, plain).ids()).toList());
    }
    List<int[]> packed = new ArrayList<>();
    for (Pair p : sample(tokenized, maxLength, task, dupeFactor, seed)) {
      int n = p.a().length + p.b().length + 3;
      int[] ids = new int[n];
      int[] types = new int[n];
      ids[0] = specials.clsId();
      System.arraycopy(p.a(), 0, ids, 1, p.a().length);
      ids[p.a().length + 1] = specials.sepId();
      System.arraycopy(p.b(), 0, ids, p.a().length + 2, p.b().length);
      ids[n - 1] = specials.sepId();
      Arrays.fill(types, p.a().length + 2, n, 1);
      packed.add(ClassificationExamples.pack(ids, types, new float[] {p.label()}));
    }
    return ClassificationExamples.ofPacked(packed, 1);
  }

  /**
   * Batches of sentence-pair examples: padded on the right as {@link ClassificationExamples#collator},
   * tokens masked by {@code mlm} exactly as a plain masked-LM batch ([CLS], [SEP] and padding are
   * never selected), the sentence labels as {@link Batch#sequenceTargets()}.
   */
  public static Collator collator(MlmCollator mlm) {
    Collator rows = ClassificationExamples.collator(mlm.padId());
    return (examples, rng) -> mlm.mask(rows.collate(examples, rng), rng);
  }

  /** Appends the examples of document {@code d}. */
  private void fromDocument(int d) {
    List<int[]> document = documents.get(d);
    int target = maxTokens;
    if (rng.nextDouble() < SHORT_SEQUENCE_PROBABILITY) {
      target = 2 + rng.nextInt(maxTokens - 1);
    }
    List<int[]> chunk = new ArrayList<>();
    int length = 0;
    for (int i = 0; i < document.size(); i++) {
      chunk.add(document.get(i));
      length += document.get(i).length;
      if (i < document.size() - 1 && length < target) {
        continue;
      }
      boolean oneToken = chunk.size() == 1 && chunk.get(0).length == 1;
      if (!(oneToken && i == document.size() - 1)) {
        boolean second = rng.nextDouble() < 0.5;
        if (task == Task.NSP && second) {
          int aEnd = chunk.size() >= 2 ? 1 + rng.nextInt(chunk.size() - 1) : 1;
          int[] a = concat(chunk.subList(0, aEnd));
          int other = rng.nextInt(documents.size() - 1);
          other += other >= d ? 1 : 0; // uniform over the other documents
          emit(a, segmentFrom(other, target - a.length), 1, d, other);
          i -= chunk.size() - aEnd; // the unused sentences go back into the document
        } else {
          if (chunk.size() == 1 && i + 1 < document.size()) {
            chunk.add(document.get(++i));
          }
          int[] a;
          int[] b;
          if (chunk.size() == 1) { // the document's last sentence alone: cut it in two
            int[] only = chunk.get(0);
            int cut = 1 + rng.nextInt(only.length - 1);
            a = Arrays.copyOfRange(only, 0, cut);
            b = Arrays.copyOfRange(only, cut, only.length);
          } else {
            int aEnd = 1 + rng.nextInt(chunk.size() - 1);
            a = concat(chunk.subList(0, aEnd));
            b = concat(chunk.subList(aEnd, chunk.size()));
          }
          boolean swap = task == Task.SOP && second;
          emit(swap ? b : a, swap ? a : b, swap ? 1 : 0, d, d);
        }
      }
      chunk.clear();
      length = 0;
    }
  }

  /** Sentences of {@code document} from a uniform start, until {@code targetLength} tokens (at least one sentence). */
  private int[] segmentFrom(int document, int targetLength) {
    List<int[]> sentences = documents.get(document);
    List<int[]> taken = new ArrayList<>();
    int length = 0;
    for (int j = rng.nextInt(sentences.size()); j < sentences.size() && (taken.isEmpty() || length < targetLength);
        j++) {
      taken.add(sentences.get(j));
      length += sentences.get(j).length;
    }
    return concat(taken);
  }

  /** Truncates A and B to fit (the longer one loses a token at its front or back, 1/2 each) and records the pair. */
  private void emit(int[] a, int[] b, int label, int documentA, int documentB) {
    int aLo = 0;
    int aHi = a.length;
    int bLo = 0;
    int bHi = b.length;
    while ((aHi - aLo) + (bHi - bLo) > maxTokens) {
      boolean truncateA = aHi - aLo > bHi - bLo;
      boolean front = rng.nextDouble() < 0.5;
      if (truncateA) {
        if (front) {
          aLo++;
        } else {
          aHi--;
        }
      } else if (front) {
        bLo++;
      } else {
        bHi--;
      }
    }
    pairs.add(new Pair(Arrays.copyOfRange(a, aLo, aHi), Arrays.copyOfRange(b, bLo, bHi), label, documentA, documentB));
  }

  private static int[] concat(List<int[]> sentences) {
    int[] out = new int[sentences.stream().mapToInt(s -> s.length).sum()];
    int at = 0;
    for (int[] s : sentences) {
      System.arraycopy(s, 0, out, at, s.length);
      at += s.length;
    }
    return out;
  }
}
