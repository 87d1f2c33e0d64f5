package ai.lmtrain.tensor;

/**
 * Where tensors live and kernels run: the CPU, or CUDA device {@code index}.
 *
 * @param kind CPU or CUDA
 * @param index the CUDA ordinal (0 for the CPU)
 */
public record Device(Kind kind, int index) {
  /** The host CPU. */
  public static final Device CPU = new Device(Kind.CPU, 0);

  /** Device kinds. */
  public enum Kind {
    CPU,
    CUDA
  }

  public Device {
    if (index < 0) {
      throw new IllegalArgumentException("device index must be >= 0 (got " + index + ")");
    }
  }

  /** CUDA device {@code index}. */
  public static Device cuda(int index) {
    return new Device(Kind.CUDA, index);
  }

  /** Parses "cpu", "cuda" or "cuda:N". */
  public static Device parse(String text) {
    String t = text.trim().toLowerCase(java.util.Locale.ROOT);
    if (t.equals("cpu")) {
      return CPU;
    }
    if (t.equals("cuda")) {
      return cuda(0);
    }
    if (t.startsWith("cuda:")) {
      try {
        return cuda(Integer.parseInt(t.substring(5)));
      } catch (NumberFormatException e) {
        // fall through to the error below
      }
    }
    throw new IllegalArgumentException("unknown device '" + text + "' (expected cpu, cuda or cuda:N)");
  }

  /** The native device number: -1 for the CPU, the ordinal for CUDA. */
  public int nativeId() {
    return kind == Kind.CPU ? -1 : index;
  }

  @Override
  public String toString() {
    return kind == Kind.CPU ? "cpu" : "cuda:" + index;
  }
}
