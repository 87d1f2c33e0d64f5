package ai.lmtrain.cli;

import ai.lmtrain.nativebridge.CudaDevices;
import ai.lmtrain.nativebridge.NativeCalls;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code lmtrain devices}: the CPU backend and every CUDA device the driver reports. */
@Command(name = "devices", mixinStandardHelpOptions = true, description = "List the CPU and CUDA devices lmtrain can use.")
final class DevicesCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.out.printf("cpu      %s, %d threads, %d GiB heap max, native core %s%n", System.getProperty("os.arch"),
        NativeCalls.cpuThreads(), Runtime.getRuntime().maxMemory() >> 30, NativeCalls.version());
    CudaDevices.Discovery found = CudaDevices.discover();
    for (CudaDevices.Info d : found.devices()) {
      System.out.printf("cuda:%-3d %s, %d SMs, %.1f GiB, compute capability %d.%d%n", d.index(), d.name(), d.smCount(),
          d.totalMemoryBytes() / (double) (1L << 30), d.computeMajor(), d.computeMinor());
    }
    if (found.devices().isEmpty()) {
      System.out.println("cuda     none: " + found.problem());
    } else if (!NativeCalls.hasCudaBackend()) {
      System.out.println("note: this build of the native core has no CUDA backend (built without nvcc)");
    }
    return 0;
  }
}
