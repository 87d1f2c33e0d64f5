package ai.lmtrain.tokenizers;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * The BPE training algorithm (HF {@code BpeTrainer}): special tokens first, then the alphabet
 * (sorted by code point), then repeatedly the most frequent adjacent pair (ties: smallest ids) is
 * merged until the vocabulary is full or the best pair is rarer than the minimum frequency.
 * Optionally every non-initial symbol carries a continuation prefix ({@code ##} for WordPiece).
 *
 * <p>Pair counts are updated incrementally: each merge only touches the words that contain the
 * pair (an index pair -&gt; words), and a max-heap with lazy re-validation picks the next pair.
 */
final class BpeTrainer {

  /** The trained vocabulary (id order) and merges (rank order, as {left, right}). */
  record Result(List<String> vocab, List<String[]> merges) {}

  private BpeTrainer() {}

  /**
   * Trains on word counts.
   *
   * @param wordCounts pre-token -&gt; frequency (symbols are code points)
   * @param initialAlphabet characters always in the alphabet (e.g. the 256 byte-level chars)
   * @param prefix continuation prefix for non-initial symbols ({@code ""} for none)
   * @param o the options
   */
  static Result train(Map<String, Long> wordCounts, String initialAlphabet, String prefix, TrainerOptions o) {
    List<String> vocab = new ArrayList<>(o.specialTokens());
    Map<String, Integer> ids = new HashMap<>();
    for (int i = 0; i < vocab.size(); i++) {
      ids.put(vocab.get(i), i);
    }
    for (int cp : alphabet(wordCounts, initialAlphabet, o.limitAlphabet())) {
      add(Character.toString(cp), vocab, ids);
    }
    if (vocab.size() > o.vocabSize()) {
      throw new TokenizerException("vocab size " + o.vocabSize() + " is below the " + o.specialTokens().size()
          + " special tokens + " + (vocab.size() - o.specialTokens().size()) + " alphabet characters (need at least " + vocab.size() + ")");
    }
    int n = wordCounts.size();
    int[][] words = new int[n][];
    int[] lengths = new int[n];
    long[] counts = new long[n];
    int w = 0;
    for (Map.Entry<String, Long> e : wordCounts.entrySet()) {
      int[] cps = e.getKey().codePoints().toArray();
      int[] symbols = new int[cps.length];
      int len = 0;
      for (int i = 0; i < cps.length; i++) {
        String s = Character.toString(cps[i]);
        Integer id = ids.get(s);
        if (id == null) {
          continue; // dropped by the alphabet limit
        }
        symbols[len++] = i == 0 || prefix.isEmpty() ? id : add(prefix + s, vocab, ids);
      }
      words[w] = symbols;
      lengths[w] = len;
      counts[w] = e.getValue();
      w++;
    }
    return new Merger(vocab, ids, words, lengths, counts, prefix).run(o);
  }

  private static int add(String token, List<String> vocab, Map<String, Integer> ids) {
    Integer id = ids.get(token);
    if (id != null) {
      return id;
    }
    vocab.add(token);
    ids.put(token, vocab.size() - 1);
    return vocab.size() - 1;
  }

  /** The alphabet: initial characters plus the most frequent others within the limit, sorted. */
  private static int[] alphabet(Map<String, Long> wordCounts, String initial, int limit) {
    Map<Integer, Long> freq = new HashMap<>();
    wordCounts.forEach((word, count) -> word.codePoints().forEach(cp -> freq.merge(cp, count, Long::sum)));
    initial.codePoints().forEach(cp -> freq.put(cp, Long.MAX_VALUE));
    List<Map.Entry<Integer, Long>> entries = new ArrayList<>(freq.entrySet());
    if (limit > 0 && entries.size() > limit) {
      entries.sort((a, b) -> b.getValue().equals(a.getValue()) ? Integer.compare(a.getKey(), b.getKey())
          : Long.compare(b.getValue(), a.getValue()));
      entries = entries.subList(0, limit);
    }
    return entries.stream().mapToInt(Map.Entry::getKey).sorted().toArray();
  }

  /** The merge loop state. */
  private static final class Merger {
    private final List<String> vocab;
    private final Map<String, Integer> ids;
    private final int[][] words;
    private final int[] lengths;
    private final long[] counts;
    private final String prefix;
    private final Map<Long, PairStats> pairs = new HashMap<>();
    private final PriorityQueue<long[]> queue = new PriorityQueue<>(BpeTrainer.Merger::compareEntries);
    private final int[] visited;
    private long merging = -1;

    Merger(List<String> vocab, Map<String, Integer> ids, int[][] words, int[] lengths, long[] counts, String prefix) {
      this.vocab = vocab;
      this.ids = ids;
      this.words = words;
      this.lengths = lengths;
      this.counts = counts;
      this.prefix = prefix;
      this.visited = new int[words.length];
      Arrays.fill(visited, -1);
    }

    /** Heap entries are {count, left, right}: highest count first, then smallest ids. */
    private static int compareEntries(long[] a, long[] b) {
      if (a[0] != b[0]) {
        return Long.compare(b[0], a[0]);
      }
      return a[1] != b[1] ? Long.compare(a[1], b[1]) : Long.compare(a[2], b[2]);
    }

    Result run(TrainerOptions o) {
      for (int w = 0; w < words.length; w++) {
        for (int i = 0; i + 1 < lengths[w]; i++) {
          change(words[w][i], words[w][i + 1], counts[w], w);
        }
      }
      pairs.forEach((key, stats) -> queue.add(new long[] {stats.count, key >>> 32, key & 0xFFFFFFFFL}));
      List<String[]> merges = new ArrayList<>();
      while (vocab.size() < o.vocabSize() && !queue.isEmpty()) {
        long[] top = queue.poll();
        int a = (int) top[1];
        int b = (int) top[2];
        PairStats stats = pairs.get(key(a, b));
        if (stats == null || stats.count != top[0]) {
          if (stats != null && stats.count > 0) {
            queue.add(new long[] {stats.count, a, b});
          }
          continue;
        }
        if (stats.count < 1 || stats.count < o.minFrequency()) {
          break;
        }
        String left = vocab.get(a);
        String right = vocab.get(b);
        String merged = left + (right.startsWith(prefix) && !prefix.isEmpty() ? right.substring(prefix.length()) : right);
        int m = add(merged, vocab, ids);
        merges.add(new String[] {left, right});
        pairs.remove(key(a, b));
        merging = key(a, b);
        int[] touched = Arrays.copyOf(stats.words, stats.size);
        int round = merges.size();
        List<Long> changed = new ArrayList<>();
        for (int w : touched) {
          if (visited[w] != round) {
            visited[w] = round;
            mergeInWord(w, a, b, m, changed);
          }
        }
        for (long k : changed) {
          PairStats s = pairs.get(k);
          if (s != null && s.count > 0) {
            queue.add(new long[] {s.count, k >>> 32, k & 0xFFFFFFFFL});
          }
        }
      }
      return new Result(List.copyOf(vocab), merges);
    }

    /**
     * Replaces every (a, b) in word w by m, left to right, updating the counts of the pairs around
     * each occurrence. Between two adjacent occurrences the old pair (b, a) disappears once and
     * (m, m) appears once.
     */
    private void mergeInWord(int w, int a, int b, int m, List<Long> changed) {
      int[] s = words[w];
      int len = lengths[w];
      long c = counts[w];
      int out = 0;
      boolean lastMerged = false;
      for (int i = 0; i < len; ) {
        if (i + 1 < len && s[i] == a && s[i + 1] == b) {
          if (out > 0) {
            if (!lastMerged) {
              change(s[out - 1], a, -c, -1);
            }
            change(s[out - 1], m, c, w);
            changed.add(key(s[out - 1], m));
          }
          boolean nextMerges = i + 3 < len && s[i + 2] == a && s[i + 3] == b;
          if (i + 2 < len) {
            change(b, s[i + 2], -c, -1);
            if (!nextMerges) {
              change(m, s[i + 2], c, w);
              changed.add(key(m, s[i + 2]));
            }
          }
          s[out++] = m;
          i += 2;
          lastMerged = true;
        } else {
          s[out++] = s[i++];
          lastMerged = false;
        }
      }
      lengths[w] = out;
    }

    private void change(int left, int right, long delta, int word) {
      long k = key(left, right);
      if (k == merging) {
        return; // the pair being merged was already removed
      }
      PairStats stats = pairs.computeIfAbsent(k, x -> new PairStats());
      stats.count += delta;
      if (word >= 0) {
        stats.addWord(word);
      }
    }

    private static long key(int a, int b) {
      return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }
  }

  /** Count of one pair and the words that (may) contain it; duplicates allowed. */
  private static final class PairStats {
    long count;
    int[] words = new int[4];
    int size;

    void addWord(int w) {
      if (size > 0 && words[size - 1] == w) {
        return;
      }
      if (size == words.length) {
        words = Arrays.copyOf(words, size * 2);
      }
      words[size++] = w;
    }
  }
}
