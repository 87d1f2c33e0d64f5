package ai.lmtrain.train.dist;

/**
 * Another rank's set-up failed; that rank reports its error, so this one ends quietly (the
 * failure is reported once, not once per rank).
 */
public class PeerFailedException extends RuntimeException {
  private final int failedRank;

  public PeerFailedException(int failedRank) {
    super("rank " + failedRank + " failed during set-up and reported why");
    this.failedRank = failedRank;
  }

  /** The lowest rank whose set-up failed. */
  public int failedRank() {
    return failedRank;
  }
}
