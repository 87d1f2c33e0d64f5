package ai.lmtrain.train.dist;

/**
 * A collective failed or timed out: another rank died, hung, stopped early or the transport
 * failed. The communicator is unusable afterwards; the job must be aborted.
 */
public class CollectiveException extends RuntimeException {
  public CollectiveException(String message, Throwable cause) {
    super(message, cause);
  }
}
