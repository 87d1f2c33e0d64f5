package ai.lmtrain.data;

import java.util.List;

/** Turns a list of examples into a padded {@link Batch}. */
public interface Collator {

  /**
   * Collates examples.
   *
   * @param examples token id sequences
   * @param rng the loader's generator (advanced by collators that draw random numbers, so the
   *     loader state captures them)
   */
  Batch collate(List<int[]> examples, SplitMix64 rng);
}
