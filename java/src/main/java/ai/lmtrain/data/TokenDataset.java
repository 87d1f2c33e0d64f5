package ai.lmtrain.data;

/** An indexed collection of token-id sequences (examples); implementations are immutable. */
public interface TokenDataset {

  /** Number of examples. */
  int size();

  /** The token ids of example {@code index} (do not mutate). */
  int[] get(int index);
}
