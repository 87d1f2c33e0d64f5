package ai.lmtrain.bench;

import java.util.Locale;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

/**
 * The peaks MFU and bandwidth percentages are measured against, for one CUDA device.
 *
 * @param name the device name as the driver reports it
 * @param bf16FlopsPerSecond dense bf16 tensor-core peak (FLOP/s), NaN when unknown
 * @param bytesPerSecond DRAM bandwidth peak: 2 (DDR) x memory clock x bus width, NaN when unknown
 */
public record GpuPeaks(String name, double bf16FlopsPerSecond, double bytesPerSecond) {
  /** Environment variable overriding the dense bf16 peak, in TFLOP/s. */
  public static final String PEAK_TFLOPS_ENV = "LMTRAIN_PEAK_BF16_TFLOPS";

  /** The peaks of CUDA device {@code index} (call once a CUDA backend has opened it). */
  public static GpuPeaks of(int index) {
    JCudaDriver.setExceptionsEnabled(true);
    JCudaDriver.cuInit(0);
    CUdevice device = new CUdevice();
    JCudaDriver.cuDeviceGet(device, index);
    byte[] raw = new byte[256];
    JCudaDriver.cuDeviceGetName(raw, raw.length, device);
    int end = 0;
    while (end < raw.length && raw[end] != 0) {
      end++;
    }
    String name = new String(raw, 0, end, java.nio.charset.StandardCharsets.UTF_8);
    double clockKHz = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE);
    double busBits = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH);
    double bandwidth = clockKHz > 0 && busBits > 0 ? 2 * clockKHz * 1e3 * busBits / 8 : Double.NaN;
    String override = System.getenv(PEAK_TFLOPS_ENV);
    double tflops = override != null && !override.isBlank() ? Double.parseDouble(override) : denseBf16Tflops(name);
    return new GpuPeaks(name, tflops * 1e12, bandwidth);
  }

  private static int attribute(CUdevice device, int attribute) {
    int[] value = new int[1];
    JCudaDriver.cuDeviceGetAttribute(value, attribute, device);
    return value[0];
  }

  /**
   * Dense (no sparsity) bf16 tensor-core peak in TFLOP/s of the data-center GPUs this project is
   * benchmarked on, from NVIDIA's data sheets; NaN for other devices (set {@value #PEAK_TFLOPS_ENV}).
   */
  static double denseBf16Tflops(String deviceName) {
    String n = deviceName.toUpperCase(Locale.ROOT);
    if (n.contains("H200") || n.contains("GH200")) {
      return 989.4;
    }
    if (n.contains("H100")) {
      return n.contains("PCIE") ? 756.5 : n.contains("NVL") ? 835.5 : 989.4; // SXM5 / HBM3 otherwise
    }
    if (n.contains("A100")) {
      return 312;
    }
    if (n.contains("L40S")) {
      return 362.05;
    }
    if (n.contains("RTX 4090")) {
      return 165.2;
    }
    return Double.NaN;
  }

  /** "NVIDIA H100 80GB HBM3 (peak 989 TFLOP/s bf16, 3352 GB/s)". */
  public String describe() {
    return String.format(Locale.ROOT, "%s (peak %s TFLOP/s dense bf16, %s GB/s DRAM)", name,
        BenchOutput.figure(bf16FlopsPerSecond / 1e12), BenchOutput.figure(bytesPerSecond / 1e9));
  }
}
