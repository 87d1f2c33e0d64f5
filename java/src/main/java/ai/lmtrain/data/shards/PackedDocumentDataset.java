package ai.lmtrain.data.shards;

import ai.lmtrain.data.TokenDataset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Masked-LM examples packed from the documents of BERT-style shards, where every document is
 * stored as {@code [CLS] ... [SEP]}: an example is the longest run of whole consecutive documents
 * that fits the context length; a document longer than that is cut into pieces, each wrapped in
 * {@code [CLS] ... [SEP]}. So every example starts with [CLS] and ends with [SEP], and no token is
 * dropped. Examples tile each shard, so the index is one int (the example's start) per example,
 * built by one sequential scan of the shards when the dataset is made; tokens are read from the
 * memory-mapped shards on demand.
 */
public final class PackedDocumentDataset implements TokenDataset {
  private final List<TokenShard> shards;
  private final int contextLength;
  private final int clsId;
  private final int sepId;
  private final int vocabSize;
  private final List<int[]> starts = new ArrayList<>();
  private final long[] firstExample;
  private final int size;

  /**
   * Scans the shards and builds the example index.
   *
   * @param shards the shards
   * @param contextLength the longest example, &gt;= 3
   * @param clsId the [CLS] id (starts every document)
   * @param sepId the [SEP] id (ends every document)
   * @param vocabSize ids must be below this
   */
  public PackedDocumentDataset(List<TokenShard> shards, int contextLength, int clsId, int sepId, int vocabSize) {
    if (contextLength < 3) {
      throw new IllegalArgumentException("context length must be at least 3 ([CLS], a token, [SEP]), got "
          + contextLength);
    }
    this.shards = List.copyOf(shards);
    this.contextLength = contextLength;
    this.clsId = clsId;
    this.sepId = sepId;
    this.vocabSize = vocabSize;
    this.firstExample = new long[shards.size() + 1];
    for (int s = 0; s < shards.size(); s++) {
      int[] index = index(shards.get(s));
      starts.add(index);
      firstExample[s + 1] = firstExample[s] + index.length - 1;
    }
    long total = firstExample[shards.size()];
    if (total > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(total + " examples are more than one epoch can index; use a longer context");
    }
    this.size = (int) total;
  }

  /** Length of range [a, b) once wrapped: [CLS] added unless it starts with one, [SEP] unless it ends with one. */
  private int wrapped(TokenShard shard, long a, long b) {
    return (int) (b - a) + (shard.get(a) == clsId ? 0 : 1) + (shard.get(b - 1) == sepId ? 0 : 1);
  }

  /** Example starts of one shard, plus its size as the last entry. */
  private int[] index(TokenShard shard) {
    long n = shard.size();
    int[] out = new int[16];
    int count = 0;
    long a = 0;
    long lastFit = 0;
    for (long i = 1; i <= n && n > 0; i++) {
      if (i < n && shard.get(i) != clsId) {
        continue;
      }
      // i is a document boundary: the end of the stream or the start of the next document
      if (wrapped(shard, a, i) > contextLength && lastFit > a) {
        out = append(out, count++, a);
        a = lastFit;
      }
      while (wrapped(shard, a, i) > contextLength) {
        long room = contextLength - 1 - (shard.get(a) == clsId ? 0 : 1);
        out = append(out, count++, a);
        a += room;
      }
      lastFit = i;
    }
    if (a < n) {
      out = append(out, count++, a);
    }
    out = append(out, count++, n);
    return Arrays.copyOf(out, count);
  }

  private static int[] append(int[] a, int at, long value) {
    int[] out = at == a.length ? Arrays.copyOf(a, a.length * 2) : a;
    out[at] = (int) value;
    return out;
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public int[] get(int index) {
    Objects.checkIndex(index, size);
    int s = ShardWindowDataset.shardOf(index, firstExample);
    TokenShard shard = shards.get(s);
    int[] table = starts.get(s);
    int k = (int) (index - firstExample[s]);
    long a = table[k];
    long b = table[k + 1];
    boolean addCls = shard.get(a) != clsId;
    boolean addSep = shard.get(b - 1) != sepId;
    int len = (int) (b - a);
    int[] out = new int[len + (addCls ? 1 : 0) + (addSep ? 1 : 0)];
    int at = 0;
    if (addCls) {
      out[at++] = clsId;
    }
    shard.read(a, out, at, len);
    ShardWindowDataset.checkIds(shard, a, out, at, len, vocabSize);
    if (addSep) {
      out[out.length - 1] = sepId;
    }
    return out;
  }
}
