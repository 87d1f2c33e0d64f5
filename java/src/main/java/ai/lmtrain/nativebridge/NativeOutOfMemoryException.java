package ai.lmtrain.nativebridge;

/** Host or device memory ran out in the native core; the message names the request. */
public final class NativeOutOfMemoryException extends NativeException {
  public NativeOutOfMemoryException(String message) {
    super(NativeCalls.OUT_OF_MEMORY, message);
  }
}
