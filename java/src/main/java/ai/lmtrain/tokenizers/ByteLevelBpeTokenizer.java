package ai.lmtrain.tokenizers;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * GPT-2's byte-level BPE tokenizer: added tokens (e.g. {@code <|endoftext|>}) matched in the text,
 * the GPT-2 pre-tokenizer, UTF-8 bytes mapped by {@link ByteLevel}, then the lowest-ranked
 * adjacent pair merged repeatedly. Merge results per pre-token are cached (per thread). No BOS/EOS are added.
 * Decoding is lossless except for byte sequences that are not valid UTF-8, which become U+FFFD.
 */
public final class ByteLevelBpeTokenizer extends VocabularyTokenizer {

  /** Slots of each thread's pre-token cache (direct-mapped). */
  private static final int CACHE_SLOTS = 1 << 17;

  private final int[] mergeLeft;
  private final int[] mergeRight;
  private final MergeTable merges;
  private final int[] byteIds = new int[256];
  private final SpecialTokens specialTokens;
  private final ThreadLocal<WordCache> cache = ThreadLocal.withInitial(WordCache::new);

  /**
   * Builds a tokenizer from a vocabulary and ranked merges.
   *
   * @param vocab token -&gt; id (ids 0..n-1)
   * @param merges merge pairs in rank order; merge k joins {@code merges.get(k)[0]} and {@code [1]}
   * @param addedTokens tokens matched literally in text
   * @param source the file named in error messages
   * @throws TokenizerException if a byte is missing from the vocabulary or a merge names unknown
   *     tokens
   */
  public static ByteLevelBpeTokenizer of(
      Map<String, Integer> vocab, List<String[]> merges, List<AddedToken> addedTokens, String source) {
    return new ByteLevelBpeTokenizer(Vocabulary.of(vocab, addedTokens, source), merges, source);
  }

  private ByteLevelBpeTokenizer(Vocabulary vocab, List<String[]> mergeList, String source) {
    super(vocab);
    for (int b = 0; b < 256; b++) {
      byteIds[b] = vocab.idOf(String.valueOf(ByteLevel.charOf(b)));
      if (byteIds[b] < 0) {
        throw new TokenizerException(source + ": the byte-level vocabulary lacks the token for byte " + b
            + " (" + ByteLevel.charOf(b) + ")");
      }
    }
    int n = mergeList.size();
    mergeLeft = new int[n];
    mergeRight = new int[n];
    int[] merged = new int[n];
    for (int r = 0; r < n; r++) {
      String[] m = mergeList.get(r);
      mergeLeft[r] = requireId(m[0], r, source);
      mergeRight[r] = requireId(m[1], r, source);
      merged[r] = requireId(m[0] + m[1], r, source);
    }
    merges = new MergeTable(mergeLeft, mergeRight, merged);
    String eos = null;
    for (AddedToken t : vocab.added()) {
      if (t.special() && (eos == null || t.content().equals("<|endoftext|>"))) {
        eos = t.content();
      }
    }
    specialTokens = SpecialTokens.gpt2(eos);
  }

  private int requireId(String token, int rank, String source) {
    int id = vocab.idOf(token);
    if (id < 0) {
      throw new TokenizerException(source + ": merge " + (rank + 1) + " uses token " + token + " which is not in the vocabulary");
    }
    return id;
  }

  @Override
  public String modelType() {
    return "BPE";
  }

  @Override
  public TokenSequence tokenize(String text, boolean withOffsets) {
    TokenSequence.Builder out = new TokenSequence.Builder(withOffsets);
    WordCache words = cache.get();
    vocab.split(text, new Vocabulary.SegmentVisitor() {
      @Override
      public void text(int start, int end) {
        for (int pos = start; pos < end; ) {
          int stop = Gpt2PreTokenizer.next(text, pos, end);
          encodeWord(text, pos, stop, words, out);
          pos = stop;
        }
      }

      @Override
      public void added(AddedToken token, int start) {
        out.add(token.id(), token.content(), token.special(), start, start + token.content().length());
      }
    });
    return out.build();
  }

  /**
   * Ids only (no strings, offsets or masks): the hot path of datasets and the benchmark; the same
   * ids as {@link #tokenize}.
   */
  @Override
  public int[] encodeIds(String text) {
    IdBuffer out = new IdBuffer(Math.max(16, text.length() / 3));
    encodeIds(text, out);
    return out.toArray();
  }

  /** {@link #encodeIds(String)} appended to {@code out}: prepare-data's hot path. */
  @Override
  public void encodeIds(String text, IdBuffer out) {
    WordCache words = cache.get();
    vocab.split(text, new Vocabulary.SegmentVisitor() {
      @Override
      public void text(int start, int end) {
        for (int pos = start; pos < end; ) {
          int stop = Gpt2PreTokenizer.next(text, pos, end);
          char c = text.charAt(pos);
          if (stop - pos == 1 && c < 128) {
            out.add(byteIds[c]);
          } else {
            // most pre-tokens are words that one token covers: no array, one place in memory
            int single = words.singleId(text, pos, stop);
            if (single >= 0) {
              out.add(single);
            } else {
              out.addAll(wordIds(text, pos, stop, words));
            }
          }
          pos = stop;
        }
      }

      @Override
      public void added(AddedToken token, int start) {
        out.add(token.id());
      }
    });
  }

  /**
   * A thread's cache of merged pre-tokens, direct-mapped, so a lookup allocates nothing and a
   * collision replaces the older entry; per thread, so no locking. A pre-token of at most 15
   * characters below U+0100 (nearly all of them in Latin-script text) is keyed by two longs packing
   * its characters and its length, compared in place, with the word's id beside them when one token
   * covers it (the common case: one place in memory per lookup); other pre-tokens are keyed by their
   * string.
   */
  private static final class WordCache {
    /**
     * Per slot s: [3s] and [3s + 1] the packed key ([3s + 1] is never 0 for a key, so 0 is empty),
     * [3s + 2] the word's id if it is one token, else -1.
     */
    final long[] packed = new long[3 * CACHE_SLOTS];
    final int[][] packedIds = new int[CACHE_SLOTS][];
    final String[] words = new String[CACHE_SLOTS];
    final int[][] ids = new int[CACHE_SLOTS][];
    /** The key of the last {@link #pack}: characters 0-7, then the length and characters 8-14. */
    private long head;
    private long tail;

    /**
     * Packs {@code text[start, end)} into {@link #head} and {@link #tail} and returns its slot, or
     * -1 when it has more than 15 characters or one above U+00FF.
     */
    int pack(String text, int start, int end) {
      int len = end - start;
      if (len > 15) {
        return -1;
      }
      long h = 0;
      long t = len; // the length ends up above the characters 8-14, so every (length, text) differs
      int split = Math.min(end, start + 8);
      for (int i = start; i < split; i++) {
        char ch = text.charAt(i);
        if (ch > 0xFF) {
          return -1;
        }
        h = (h << 8) | ch;
      }
      for (int i = split; i < end; i++) {
        char ch = text.charAt(i);
        if (ch > 0xFF) {
          return -1;
        }
        t = (t << 8) | ch;
      }
      head = h;
      tail = t;
      return (int) (((h * 0x9E3779B97F4A7C15L) ^ (t * 0xC2B2AE3D27D4EB4FL)) >>> 40) & (CACHE_SLOTS - 1);
    }

    /** Whether {@code slot} holds the key of the last {@link #pack}. */
    boolean holds(int slot) {
      return packed[3 * slot] == head && packed[3 * slot + 1] == tail;
    }

    /** The id of {@code text[start, end)} if it is cached and one token, else -1. */
    int singleId(String text, int start, int end) {
      int slot = pack(text, start, end);
      return slot >= 0 && holds(slot) ? (int) packed[3 * slot + 2] : -1;
    }
  }

  /** The merged ids of pre-token {@code text[start, end)}, through the calling thread's cache {@code c}. */
  private int[] wordIds(String text, int start, int end, WordCache c) {
    int len = end - start;
    int packedSlot = c.pack(text, start, end);
    if (packedSlot >= 0) {
      if (c.holds(packedSlot)) {
        return c.packedIds[packedSlot];
      }
      int[] ids = merge(text.substring(start, end).getBytes(StandardCharsets.UTF_8));
      c.packed[3 * packedSlot] = c.head;
      c.packed[3 * packedSlot + 1] = c.tail;
      c.packed[3 * packedSlot + 2] = ids.length == 1 ? ids[0] : -1;
      c.packedIds[packedSlot] = ids;
      return ids;
    }
    int h = 0;
    for (int i = start; i < end; i++) {
      h = 31 * h + text.charAt(i);
    }
    h ^= h >>> 15;
    h *= 0x2C1B3C6D;
    int slot = (h ^ (h >>> 17)) & (CACHE_SLOTS - 1);
    String w = c.words[slot];
    if (w != null && w.length() == len && text.regionMatches(start, w, 0, len)) {
      return c.ids[slot];
    }
    String word = text.substring(start, end);
    int[] ids = merge(word.getBytes(StandardCharsets.UTF_8));
    c.words[slot] = word;
    c.ids[slot] = ids;
    return ids;
  }

  private void encodeWord(String text, int start, int end, WordCache words, TokenSequence.Builder out) {
    char c = text.charAt(start);
    if (end - start == 1 && c < 128) {
      int id = byteIds[c];
      out.add(id, vocab.token(id), false, start, end);
      return;
    }
    int[] ids = wordIds(text, start, end, words);
    if (!out.wantsOffsets()) {
      for (int id : ids) {
        out.add(id, vocab.token(id), false, 0, 0);
      }
      return;
    }
    String word = text.substring(start, end);
    int[] charOfByte = charIndexOfBytes(word);
    int b = 0;
    for (int id : ids) {
      String token = vocab.token(id);
      int first = charOfByte[b];
      b += token.length();
      int last = charOfByte[b - 1];
      out.add(id, token, false, start + first, start + last + Character.charCount(word.codePointAt(last)));
    }
  }

  /** For each UTF-8 byte of {@code word}, the char index of the code point it belongs to. */
  private static int[] charIndexOfBytes(String word) {
    int[] map = new int[word.length() * 3 + 1];
    int n = 0;
    for (int i = 0; i < word.length(); ) {
      int cp = word.codePointAt(i);
      int len = (cp >= 0xD800 && cp <= 0xDFFF) ? 1 : cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      for (int k = 0; k < len; k++) {
        map[n++] = i;
      }
      i += Character.charCount(cp);
    }
    return map;
  }

  /** BPE over one pre-token: merge the lowest-ranked pair (all its occurrences) until none merges. */
  private int[] merge(byte[] bytes) {
    int len = bytes.length;
    int[] w = new int[len];
    for (int i = 0; i < len; i++) {
      w[i] = byteIds[bytes[i] & 0xFF];
    }
    while (len > 1) {
      int bestRank = Integer.MAX_VALUE;
      int bestSlot = -1;
      int bestAt = -1;
      for (int i = 0; i + 1 < len; i++) {
        int slot = merges.find(w[i], w[i + 1]);
        if (slot >= 0 && merges.rank(slot) < bestRank) {
          bestRank = merges.rank(slot);
          bestSlot = slot;
          bestAt = i;
        }
      }
      if (bestSlot < 0) {
        break;
      }
      int a = w[bestAt];
      int b = w[bestAt + 1];
      int m = merges.result(bestSlot);
      int out = bestAt;
      for (int i = bestAt; i < len; ) {
        if (i + 1 < len && w[i] == a && w[i + 1] == b) {
          w[out++] = m;
          i += 2;
        } else {
          w[out++] = w[i++];
        }
      }
      len = out;
    }
    return Arrays.copyOf(w, len);
  }

  @Override
  public PostProcessor postProcessor() {
    return PostProcessor.NONE;
  }

  @Override
  public String decode(int[] ids, boolean skipSpecialTokens) {
    StringBuilder text = new StringBuilder();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (int id : ids) {
      String token = vocab.token(id);
      if (vocab.isAdded(id)) {
        if (skipSpecialTokens && vocab.isSpecial(id)) {
          continue;
        }
        text.append(bytes.toString(StandardCharsets.UTF_8));
        bytes.reset();
        text.append(token);
      } else {
        ByteLevel.appendBytes(token, bytes);
      }
    }
    return text.append(bytes.toString(StandardCharsets.UTF_8)).toString();
  }

  @Override
  public SpecialTokens specialTokens() {
    return specialTokens;
  }

  /** The merges in rank order, each as {left, right}. */
  public List<String[]> merges() {
    List<String[]> out = new ArrayList<>(mergeLeft.length);
    for (int r = 0; r < mergeLeft.length; r++) {
      out.add(new String[] {vocab.token(mergeLeft[r]), vocab.token(mergeRight[r])});
    }
    return out;
  }
}
