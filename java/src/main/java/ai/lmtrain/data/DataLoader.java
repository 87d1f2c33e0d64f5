package ai.lmtrain.data;

import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Batches a {@link TokenDataset} through a {@link Collator}. With shuffling, epoch {@code e}
 * visits the examples in a Fisher-Yates permutation drawn from {@link SplitMix64} seeded with
 * {@code seed + e * 0x9E3779B97F4A7C15} (so an epoch's order depends only on the seed and the epoch
 * number); without shuffling, in index order. The collator draws from a separate SplitMix64 stream
 * (seeded with {@code ~seed}) whose state is part of {@link #state()}, so a loader restored with
 * {@link #restore} continues with exactly the batches an uninterrupted run would have produced.
 * Not thread-safe.
 */
public final class DataLoader {

  private final TokenDataset dataset;
  private final Collator collator;
  private final int batchSize;
  private final boolean shuffle;
  private final long seed;
  private final boolean dropLast;
  private int epoch;
  private int position;
  private int[] order;
  private SplitMix64 rng;

  /**
   * @param dataset the examples
   * @param collator turns examples into batches
   * @param batchSize examples per batch, &gt; 0
   * @param shuffle shuffle each epoch
   * @param seed seed for shuffling and the collator's random numbers
   * @param dropLast drop the last incomplete batch of each epoch
   */
  public DataLoader(TokenDataset dataset, Collator collator, int batchSize, boolean shuffle, long seed, boolean dropLast) {
    if (batchSize <= 0) {
      throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
    }
    this.dataset = dataset;
    this.collator = collator;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.seed = seed;
    this.dropLast = dropLast;
    restore(new LoaderState(0, 0, ~seed));
  }

  /** Batches per epoch. */
  public int batchesPerEpoch() {
    int n = dataset.size();
    return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
  }

  /** Whether the current epoch has another batch. */
  public boolean hasNext() {
    return position < batchesPerEpoch();
  }

  /** The next batch of the current epoch. */
  public Batch next() {
    if (!hasNext()) {
      throw new NoSuchElementException("epoch " + epoch + " is finished; call nextEpoch()");
    }
    int from = position * batchSize;
    int to = Math.min(from + batchSize, dataset.size());
    List<int[]> examples = new ArrayList<>(to - from);
    for (int i = from; i < to; i++) {
      examples.add(dataset.get(order[i]));
    }
    position++;
    return collator.collate(examples, rng);
  }

  /** Starts the next epoch (new shuffle order). */
  public void nextEpoch() {
    restore(new LoaderState(epoch + 1, 0, rng.state()));
  }

  /** The current epoch. */
  public int epoch() {
    return epoch;
  }

  /** The state to checkpoint. */
  public LoaderState state() {
    return new LoaderState(epoch, position, rng.state());
  }

  /** Continues from a checkpointed state (same dataset, collator, batch size and seed). */
  public void restore(LoaderState state) {
    if (state.epoch() < 0 || state.position() < 0 || state.position() > batchesPerEpoch()) {
      throw new IllegalArgumentException("loader state " + state + " does not fit " + batchesPerEpoch() + " batches per epoch");
    }
    this.epoch = state.epoch();
    this.position = state.position();
    this.rng = new SplitMix64(state.rngState());
    this.order = new int[dataset.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    if (shuffle) {
      new SplitMix64(seed + epoch * 0x9E3779B97F4A7C15L).shuffle(order);
    }
  }
}
