package ai.lmtrain.data;

import java.io.Serializable;

/**
 * Where a {@link DataLoader} stands, enough to resume mid-epoch exactly.
 *
 * @param epoch the current epoch (0-based)
 * @param position number of batches already returned in this epoch
 * @param rngState the collator generator's {@link SplitMix64#state()}
 */
public record LoaderState(int epoch, int position, long rngState) implements Serializable {}
