package ai.lmtrain.bench;

import java.lang.management.ManagementFactory;

/**
 * Processor time used by this process, all its threads together (tokenizers, reader, writer, JIT
 * compiler and garbage collector): a cost that other processes on a shared machine change far less
 * than they change wall-clock time.
 */
final class ProcessCpu {
  private ProcessCpu() {}

  /** CPU seconds used so far, or NaN on a runtime without jdk.management. */
  static double seconds() {
    try {
      long nanos = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
          .getProcessCpuTime();
      return nanos < 0 ? Double.NaN : nanos / 1e9;
    } catch (LinkageError | ClassCastException e) {
      return Double.NaN;
    }
  }
}
