package ai.lmtrain.data.shards;

import ai.lmtrain.data.TokenDataset;
import java.util.List;
import java.util.Objects;

/**
 * Causal-LM windows read from memory-mapped shards. Window {@code j} of a shard holds tokens
 * {@code [j (T-1), j (T-1) + T)} for context length T: the model scores T-1 next tokens per
 * window (it shifts the labels, as Hugging Face's models do), and consecutive windows share one
 * token, so every token of a shard but its first is a target exactly once per epoch — what
 * llm.c's windows of T+1 tokens give, for models that take T tokens. Windows stay inside a shard;
 * a shard's last partial window is dropped. Window indices run over all shards (shard 0's first);
 * the {@link ai.lmtrain.data.DataLoader} shuffles them. Nothing but the window start table is
 * held in memory; every id read is checked against the vocabulary.
 */
public final class ShardWindowDataset implements TokenDataset {
  private final List<TokenShard> shards;
  private final int contextLength;
  private final int vocabSize;
  private final long[] firstWindow;
  private final int size;

  /**
   * @param shards the shards
   * @param contextLength tokens per window, &gt;= 2
   * @param vocabSize ids must be below this
   */
  public ShardWindowDataset(List<TokenShard> shards, int contextLength, int vocabSize) {
    if (contextLength < 2) {
      throw new IllegalArgumentException("context length must be at least 2, got " + contextLength);
    }
    this.shards = List.copyOf(shards);
    this.contextLength = contextLength;
    this.vocabSize = vocabSize;
    this.firstWindow = new long[shards.size() + 1];
    for (int s = 0; s < shards.size(); s++) {
      long n = shards.get(s).size();
      firstWindow[s + 1] = firstWindow[s] + (n < contextLength ? 0 : (n - 1) / (contextLength - 1));
    }
    long total = firstWindow[shards.size()];
    if (total > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(total + " windows of " + contextLength + " tokens are more than one epoch can"
          + " index (" + Integer.MAX_VALUE + "); use a longer context");
    }
    this.size = (int) total;
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public int[] get(int index) {
    Objects.checkIndex(index, size);
    int s = shardOf(index, firstWindow);
    TokenShard shard = shards.get(s);
    long start = (index - firstWindow[s]) * (contextLength - 1);
    int[] out = new int[contextLength];
    shard.read(start, out, 0, contextLength);
    checkIds(shard, start, out, 0, contextLength, vocabSize);
    return out;
  }

  /** The shard holding global index {@code index}, by binary search over the cumulative counts. */
  static int shardOf(long index, long[] first) {
    int lo = 0;
    int hi = first.length - 2;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (first[mid] <= index) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  /**
   * Every id of {@code ids[from, from + length)} (read from {@code shard} at {@code start}) below the
   * vocabulary size, else one error naming the shard and position.
   */
  static void checkIds(TokenShard shard, long start, int[] ids, int from, int length, int vocabSize) {
    for (int i = 0; i < length; i++) {
      int id = ids[from + i];
      if (id < 0 || id >= vocabSize) {
        throw new IllegalStateException(shard.file() + ": token " + Integer.toUnsignedString(id) + " at position "
            + (start + i) + " is outside the tokenizer's vocabulary of " + vocabSize + " (shards made with another"
            + " tokenizer?)");
      }
    }
  }
}
