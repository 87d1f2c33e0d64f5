package ai.lmtrain.bench;

import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.CpuBackend;
import ai.lmtrain.train.Precision;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A CPU training-step case measured in a JVM of its own, so that the process's peak resident set
 * size (VmHWM: parameters, gradients, optimizer moments, activations, the JVM itself) belongs to
 * that case alone. {@link #measure} starts {@code java ai.lmtrain.bench.OwnProcessTrain} with this
 * JVM's class path and -X options (heap, GC), writes the case ({@link TrainCase#toJson} plus "threads") on its
 * stdin, forwards its stderr, and reads {@code {"seconds": median step, "peak_rss_bytes": VmHWM}}
 * from its stdout.
 */
public final class OwnProcessTrain {
  private static final ObjectMapper JSON = new ObjectMapper();

  private OwnProcessTrain() {}

  /**
   * What the child measured.
   *
   * @param stepSeconds median seconds per optimizer step
   * @param peakRssBytes the child's VmHWM after its last step, NaN where the OS does not report it
   */
  public record Measurement(double stepSeconds, double peakRssBytes) {}

  /** Runs {@code trainCase} in a new JVM ({@code threads} 0: all cores) and returns its figures. */
  public static Measurement measure(TrainCase trainCase, int warmup, int steps, int threads, PrintWriter progress) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (option.startsWith("-X") && !option.startsWith("-Xrunjdwp") && !option.equals("-Xdebug")) {
        command.add(option); // heap, GC and JIT settings; not agents or debugger hooks of the parent
      }
    }
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(OwnProcessTrain.class.getName());
    ObjectNode spec = trainCase.toJson(warmup, steps).put("threads", threads);
    try {
      Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.PIPE).start();
      Thread stderr = new Thread(() -> forward(child, progress), "own-process-stderr");
      stderr.start();
      try (OutputStream in = child.getOutputStream()) {
        in.write(JSON.writeValueAsBytes(spec));
      }
      String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int status = child.waitFor();
      stderr.join();
      JsonNode result = status == 0 ? JSON.readTree(out) : null;
      if (result == null || !result.path("seconds").isNumber()) {
        throw new IllegalStateException(trainCase.name() + ": the measuring JVM failed (exit status " + status
            + "; its messages are above)");
      }
      return new Measurement(result.get("seconds").asDouble(),
          result.path("peak_rss_bytes").isNumber() ? result.get("peak_rss_bytes").asDouble() : Double.NaN);
    } catch (IOException e) {
      throw new UncheckedIOException("starting a JVM for " + trainCase.name() + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while measuring " + trainCase.name(), e);
    }
  }

  private static void forward(Process child, PrintWriter progress) {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getErrorStream(), StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        synchronized (progress) {
          progress.println("  [own process] " + line);
          progress.flush();
        }
      }
    } catch (IOException e) {
      // the child went away; its exit status tells the rest
    }
  }

  /** The child: reads one case from stdin, trains it, prints the figures on stdout. */
  public static void main(String[] args) throws IOException {
    JsonNode spec = JSON.readTree(System.in);
    TrainCase trainCase = TrainCase.fromJson(spec);
    int threads = spec.path("threads").asInt(0);
    if (threads > 0) {
      CpuBackend.setThreads(threads);
    }
    double seconds;
    try (Backend backend = new CpuBackend(); LanguageModel model = trainCase.newModel(backend, Precision.FP32)) {
      seconds = trainCase.medianStepSeconds(model, Precision.FP32, spec.get("warmup").asInt(),
          spec.get("steps").asInt());
    }
    ObjectNode result = JSON.createObjectNode().put("seconds", seconds);
    double peak = PeakRss.ofThisProcess();
    if (Double.isFinite(peak)) {
      result.put("peak_rss_bytes", peak);
    }
    System.out.println(result);
  }
}
