package ai.lmtrain.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The peak resident set size of this process: VmHWM of {@code /proc/self/status} (Linux). */
final class PeakRss {
  private static final Path STATUS = Path.of("/proc/self/status");

  private PeakRss() {}

  /** Bytes, or NaN where the kernel does not report it (not Linux). */
  static double ofThisProcess() {
    try {
      for (String line : Files.readAllLines(STATUS)) {
        if (line.startsWith("VmHWM:")) {
          String[] parts = line.substring("VmHWM:".length()).trim().split("\\s+");
          if (parts.length == 2 && parts[1].equals("kB")) {
            return Long.parseLong(parts[0]) * 1024.0;
          }
        }
      }
    } catch (IOException | NumberFormatException e) {
      // no /proc here, or a format this code does not know: no figure rather than a wrong one
    }
    return Double.NaN;
  }
}
