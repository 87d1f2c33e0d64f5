package ai.lmtrain.nativebridge;

/** Turns native status codes into exceptions, and answers library-wide questions. */
public final class NativeCalls {
  /** Status code the native core uses for an out-of-memory failure. */
  public static final int OUT_OF_MEMORY = 2;

  private NativeCalls() {}

  /** Throws a {@link NativeException} with {@code lmt_last_error()} unless {@code status} is 0. */
  public static void check(int status) {
    if (status != 0) {
      String message = LmtNative.lmt_last_error();
      if (status == OUT_OF_MEMORY) {
        throw new NativeOutOfMemoryException(message);
      }
      throw new NativeException(status, message);
    }
  }

  /** Version of the loaded native core. */
  public static String version() {
    return LmtNative.lmt_version();
  }

  /** Whether the loaded native core was compiled with its CUDA backend. */
  public static boolean hasCudaBackend() {
    return LmtNative.lmt_has_cuda_backend() != 0;
  }

  /** Threads used by the CPU backend. */
  public static int cpuThreads() {
    return LmtNative.lmt_get_num_threads();
  }

  /** Sets the CPU backend's thread count (results never depend on it). */
  public static void setCpuThreads(int threads) {
    check(LmtNative.lmt_set_num_threads(threads));
  }
}
