package ai.lmtrain.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.nativebridge.NativeLibraries;
import ai.lmtrain.train.dist.MpiJobs;
import ai.lmtrain.train.dist.MpiLauncher;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs after {@code package}: the shaded jar, started in a fresh JVM with an empty JavaCPP cache
 * and nothing else on the class path, extracts and loads its own native libraries (liblmtrain.so
 * and the JNI bridge) and runs native code. Guards against a jar that only works because a
 * previous build left libraries in target/classes or in ~/.javacpp. The MPI shim travels the same
 * way.
 */
class NativesLoadFromJarIT {

  @Test
  void shadedJarLoadsItsNativesIntoAnEmptyCache(@TempDir Path cache) throws Exception {
    Path jar = Path.of(System.getProperty("lmtrain.jar"));
    assertTrue(Files.isRegularFile(jar), "shaded jar missing: " + jar);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-Dorg.bytedeco.javacpp.cachedir=" + cache, "-jar", jar.toString(), "devices")
        .redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "lmtrain devices did not finish");
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("native core 0.1.0"), out);
    List<String> extracted = filesUnder(cache);
    assertTrue(extracted.stream().anyMatch(f -> f.endsWith("liblmtrain.so")), "liblmtrain.so not extracted: " + extracted);
    assertTrue(extracted.stream().anyMatch(f -> f.endsWith("libjniLmtNative.so")), "JNI bridge not extracted: " + extracted);
  }

  /**
   * Built with MPI, the jar carries the MPI shim, and two ranks started by mpirun from the jar with
   * one empty JavaCPP cache extract it (concurrently) and train.
   */
  @Test
  void theMpiShimTravelsInTheJar(@TempDir Path tmp) throws Exception {
    Path jar = Path.of(System.getProperty("lmtrain.jar"));
    boolean packaged;
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      packaged = zip.getEntry("ai/lmtrain/nativebridge/" + Loader.getPlatform() + "/liblmtrain_mpi.so") != null;
    }
    assertEquals(NativeLibraries.mpiShim().isPresent(), packaged, "the jar and target/classes disagree on the MPI shim");
    Assumptions.assumeTrue(packaged, "this build has no MPI shim (CMake found no MPI)");
    Path mpirun = MpiLauncher.findMpirun().orElse(null);
    Assumptions.assumeTrue(mpirun != null, "mpirun is not installed (apt-get install openmpi-bin)");
    Path cache = tmp.resolve("cache");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // env: Open MPI rewrites the arguments of a program called java (see MpiLauncher.thisJava).
    List<String> cmd = new ArrayList<>(List.of(mpirun.toString(), "--oversubscribe", "--bind-to", "none", "-np", "2",
        "env", java, "-Dorg.bytedeco.javacpp.cachedir=" + cache, "-jar", jar.toString()));
    cmd.addAll(MpiJobs.tinyGpt2Train(tmp, Map.of("max_steps", 2)));
    Process p = MpiJobs.builder(cmd, Map.of()).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "the 2-rank run did not finish");
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("x 2 ranks (global batch 4)"), out);
    assertTrue(filesUnder(cache).stream().anyMatch(f -> f.endsWith("liblmtrain_mpi.so")), "MPI shim not extracted");
  }

  private static List<String> filesUnder(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).map(Path::toString).toList();
    }
  }
}
