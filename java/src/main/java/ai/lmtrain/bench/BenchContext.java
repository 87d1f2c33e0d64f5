package ai.lmtrain.bench;

import ai.lmtrain.tensor.Device;
import java.io.PrintWriter;

/**
 * How a suite runs.
 *
 * @param device the device to measure ours on
 * @param warmup untimed runs per case (each side)
 * @param repetitions timed runs per case (each side); the median is reported
 * @param threads CPU threads for ours and the peer; 0 means all cores
 * @param peers runs the peer scripts
 * @param progress where progress lines go (stderr in the CLI), never the report itself
 */
public record BenchContext(Device device, int warmup, int repetitions, int threads, PeerScripts peers,
    PrintWriter progress) {

  public BenchContext {
    if (warmup < 0 || repetitions < 1 || threads < 0) {
      throw new IllegalArgumentException("need warmup >= 0, repetitions >= 1 and threads >= 0 (got " + warmup + ", "
          + repetitions + ", " + threads + ")");
    }
  }

  /** Writes one progress line. */
  public void log(String line) {
    progress.println(line);
    progress.flush();
  }
}
