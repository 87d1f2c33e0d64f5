package ai.lmtrain.nativebridge;

import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

/**
 * CUDA device discovery through JCuda's driver API: names, SM counts, memory. JCuda is used for
 * nothing else; device memory is owned by the native core.
 */
public final class CudaDevices {
  private CudaDevices() {}

  /** One CUDA device as the driver reports it. */
  public record Info(int index, String name, int smCount, long totalMemoryBytes, int computeMajor, int computeMinor) {}

  /** What discovery found: the devices, or why there are none. */
  public record Discovery(List<Info> devices, String problem) {}

  /** Lists the CUDA devices; never throws (no driver or no GPU gives an empty list and a reason). */
  public static Discovery discover() {
    try {
      JCudaDriver.setExceptionsEnabled(true);
      JCudaDriver.cuInit(0);
      int[] count = new int[1];
      JCudaDriver.cuDeviceGetCount(count);
      List<Info> devices = new ArrayList<>();
      for (int i = 0; i < count[0]; i++) {
        CUdevice device = new CUdevice();
        JCudaDriver.cuDeviceGet(device, i);
        byte[] name = new byte[256];
        JCudaDriver.cuDeviceGetName(name, name.length, device);
        long[] memory = new long[1];
        JCudaDriver.cuDeviceTotalMem(memory, device);
        devices.add(new Info(i, cString(name), attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT),
            memory[0], attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
            attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)));
      }
      return new Discovery(devices, devices.isEmpty() ? "the CUDA driver reports no devices" : null);
    } catch (Throwable e) { // UnsatisfiedLinkError without libcuda, CudaException without a GPU
      String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
      return new Discovery(List.of(), "no CUDA driver or device (" + reason + ")");
    }
  }

  private static int attribute(CUdevice device, int attribute) {
    int[] value = new int[1];
    JCudaDriver.cuDeviceGetAttribute(value, attribute, device);
    return value[0];
  }

  private static String cString(byte[] bytes) {
    int end = 0;
    while (end < bytes.length && bytes[end] != 0) {
      end++;
    }
    return new String(bytes, 0, end, java.nio.charset.StandardCharsets.UTF_8);
  }
}
