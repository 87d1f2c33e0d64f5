package ai.lmtrain.tokenizers;

import java.util.Arrays;

/**
 * Open-addressing hash table from an adjacent id pair to its merge rank and merged id; the
 * innermost lookup of BPE encoding, kept free of boxing.
 */
final class MergeTable {

  private final long[] keys;
  private final int[] ranks;
  private final int[] results;
  private final int mask;
  private final int size;

  /**
   * @param lefts left ids, in rank order
   * @param rights right ids, in rank order
   * @param merged merged ids, in rank order
   */
  MergeTable(int[] lefts, int[] rights, int[] merged) {
    int cap = Integer.highestOneBit(Math.max(4, lefts.length * 2 + 1)) << 1;
    keys = new long[cap];
    Arrays.fill(keys, -1L);
    ranks = new int[cap];
    results = new int[cap];
    mask = cap - 1;
    size = lefts.length;
    for (int r = 0; r < lefts.length; r++) {
      long key = key(lefts[r], rights[r]);
      int slot = slot(key);
      while (keys[slot] != -1L && keys[slot] != key) {
        slot = (slot + 1) & mask;
      }
      if (keys[slot] == -1L) {
        keys[slot] = key;
        ranks[slot] = r;
        results[slot] = merged[r];
      }
    }
  }

  private static long key(int a, int b) {
    return ((long) a << 32) | (b & 0xFFFFFFFFL);
  }

  private int slot(long key) {
    long h = key * 0x9E3779B97F4A7C15L;
    return (int) (h >>> 40) & mask;
  }

  /** Number of merges. */
  int size() {
    return size;
  }

  /** The slot of pair (a, b), or -1 if the pair does not merge. */
  int find(int a, int b) {
    long key = key(a, b);
    int slot = slot(key);
    while (true) {
      long k = keys[slot];
      if (k == key) {
        return slot;
      }
      if (k == -1L) {
        return -1;
      }
      slot = (slot + 1) & mask;
    }
  }

  int rank(int slot) {
    return ranks[slot];
  }

  int result(int slot) {
    return results[slot];
  }
}
