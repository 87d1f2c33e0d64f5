package ai.lmtrain.nativebridge;

/** A native call failed; the message is the native core's (function, argument, expectation). */
public class NativeException extends RuntimeException {
  private final int status;

  public NativeException(int status, String message) {
    super(message);
    this.status = status;
  }

  /** The native status code (see {@code lmtrain.h}: 1 invalid argument, 2 out of memory, ...). */
  public int status() {
    return status;
  }
}
