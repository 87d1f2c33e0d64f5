package ai.lmtrain.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs after {@code package}: the shaded jar, started in a fresh JVM with an empty JavaCPP cache
 * and nothing else on the class path, extracts and loads its own native libraries (liblmtrain.so
 * and the JNI bridge) and runs native code. Guards against a jar that only works because a
 * previous build left libraries in target/classes or in ~/.javacpp.
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

  private static List<String> filesUnder(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).map(Path::toString).toList();
    }
  }
}
