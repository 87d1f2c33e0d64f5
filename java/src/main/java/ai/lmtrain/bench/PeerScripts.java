package ai.lmtrain.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Runs the peer scripts of {@code scripts/bench/} as subprocesses: the suite's JSON spec on stdin,
 * one JSON object {@code {"peer": ..., "results": {case: number}}} back on stdout, progress on
 * stderr (forwarded), exit status 3 when the peer cannot run on this machine (no torch, no CUDA
 * device). A peer that cannot run yields an {@link Outcome} with a reason and no numbers, never
 * made-up figures.
 */
public final class PeerScripts {
  /** Exit status of a peer script that cannot run here (see scripts/bench/bench_common.py). */
  public static final int UNAVAILABLE_EXIT = 3;
  /** Environment variable naming the Python interpreter (default "python3"). */
  public static final String PYTHON_ENV = "LMTRAIN_PYTHON";
  /** Environment variable naming the folder of the peer scripts (default: found beside the jar or the working directory). */
  public static final String SCRIPTS_ENV = "LMTRAIN_BENCH_SCRIPTS";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String MARKER = "bench_common.py";

  private final String python;
  private final Path scriptDir;

  /**
   * @param python the interpreter command
   * @param scriptDir the folder holding the scripts, or null when it could not be found
   */
  public PeerScripts(String python, Path scriptDir) {
    this.python = python;
    this.scriptDir = scriptDir;
  }

  /** The interpreter of {@value #PYTHON_ENV} and the scripts of {@value #SCRIPTS_ENV} or {@link #locate()}. */
  public static PeerScripts fromEnvironment() {
    String python = System.getenv(PYTHON_ENV);
    String dir = System.getenv(SCRIPTS_ENV);
    return new PeerScripts(python == null || python.isBlank() ? "python3" : python,
        dir == null || dir.isBlank() ? locate() : Path.of(dir));
  }

  /**
   * Finds {@code scripts/bench} above the jar (a source tree's java/target, or a bundle's lib) or
   * above the working directory; null if neither has it.
   */
  static Path locate() {
    try {
      Path jar = Path.of(PeerScripts.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path found = searchUp(jar);
      if (found != null) {
        return found;
      }
    } catch (URISyntaxException | SecurityException | NullPointerException e) {
      // no code source location: fall back to the working directory
    }
    return searchUp(Path.of("").toAbsolutePath());
  }

  private static Path searchUp(Path from) {
    for (Path p = from; p != null; p = p.getParent()) {
      Path candidate = p.resolve("scripts").resolve("bench");
      if (Files.isRegularFile(candidate.resolve(MARKER))) {
        return candidate;
      }
    }
    return null;
  }

  /**
   * What a peer script produced.
   *
   * @param peer what ran (e.g. "PyTorch 2.5.1 CUDA ..."), or null
   * @param results the figure of each case
   * @param problem why the peer has no figures, or null
   */
  public record Outcome(String peer, Map<String, Double> results, String problem) {

    public Outcome {
      results = Map.copyOf(results);
    }

    static Outcome unavailable(String problem) {
      return new Outcome(null, Map.of(), problem);
    }

    /** The figure of {@code name}, or NaN when the peer did not measure it. */
    public double value(String name) {
      return results.getOrDefault(name, Double.NaN);
    }

    /** The peer's description, or "n/a: " and the reason. */
    public String describe() {
      return problem == null ? peer : BenchOutput.MISSING + ": " + problem;
    }
  }

  /**
   * Runs {@code script} with {@code spec} on stdin.
   *
   * @param threads when positive, OMP_NUM_THREADS and OPENBLAS_NUM_THREADS for the script, with
   *     OMP_WAIT_POLICY=PASSIVE (spinning OpenMP workers otherwise starve OpenBLAS's threads: on a
   *     2-core machine that made PyTorch's training step 3 times slower)
   * @param progress receives the script's stderr lines
   */
  public Outcome run(String script, JsonNode spec, int threads, PrintWriter progress) {
    if (scriptDir == null) {
      return Outcome.unavailable("the peer scripts (scripts/bench) were not found beside the jar or the working "
          + "directory; set " + SCRIPTS_ENV + " to that folder");
    }
    Path file = scriptDir.resolve(script);
    if (!Files.isRegularFile(file)) {
      return Outcome.unavailable("peer script " + file + " does not exist");
    }
    ProcessBuilder pb = new ProcessBuilder(python, file.toString());
    pb.environment().put("PYTHONUNBUFFERED", "1");
    if (threads > 0) {
      pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
      pb.environment().put("OPENBLAS_NUM_THREADS", Integer.toString(threads));
      pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
    }
    Process process;
    try {
      process = pb.start();
    } catch (IOException e) {
      return Outcome.unavailable("cannot run " + python + " (" + e.getMessage() + "); set " + PYTHON_ENV
          + " to a Python with PyTorch");
    }
    StringBuilder lastErr = new StringBuilder();
    Thread stderr = new Thread(() -> forward(process, progress, lastErr), "peer-stderr");
    stderr.start();
    try {
      try (OutputStream in = process.getOutputStream()) {
        in.write(JSON.writeValueAsBytes(spec));
      } catch (IOException e) {
        // the script exited before reading its spec: its status and stderr say why
      }
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int status = process.waitFor();
      stderr.join();
      String reason;
      synchronized (lastErr) {
        reason = lastErr.toString();
      }
      if (status == UNAVAILABLE_EXIT) {
        return Outcome.unavailable(reason);
      }
      if (status != 0) {
        return Outcome.unavailable(script + " failed with exit status " + status + (reason.isEmpty() ? "" : ": "
            + reason));
      }
      return parse(script, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      return Outcome.unavailable("interrupted");
    }
  }

  private static void forward(Process process, PrintWriter progress, StringBuilder lastLine) {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        synchronized (progress) {
          progress.println("  [peer] " + line);
          progress.flush();
        }
        if (!line.isBlank()) {
          synchronized (lastLine) {
            lastLine.setLength(0);
            lastLine.append(line.strip());
          }
        }
      }
    } catch (IOException e) {
      // the process went away; its exit status tells the rest
    }
  }

  static Outcome parse(String script, String stdout) {
    JsonNode root;
    try {
      root = JSON.readTree(stdout);
    } catch (IOException e) {
      root = null;
    }
    if (root == null || !root.path("peer").isTextual() || !root.path("results").isObject()) {
      return Outcome.unavailable(script + " printed no result object (expected {\"peer\": ..., \"results\": {...}})");
    }
    Map<String, Double> results = new LinkedHashMap<>();
    root.get("results").fields().forEachRemaining(e -> {
      if (e.getValue().isNumber()) {
        results.put(e.getKey(), e.getValue().asDouble());
      }
    });
    return new Outcome(root.get("peer").asText(), results, null);
  }
}
