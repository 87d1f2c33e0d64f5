package ai.lmtrain.fuzz;

import ai.lmtrain.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Fuzzes every parser target of {@link ParserFuzzTargets} for a set time with Jazzer's standalone
 * driver, one JVM per target (Jazzer fuzzes one target per process):
 *
 * <pre>
 *   java -cp TEST_CLASSPATH ai.lmtrain.fuzz.FuzzCampaign SECONDS SEED SEEDS_DIR WORK_DIR
 * </pre>
 *
 * Each target starts from its committed seeds alone ({@code SEEDS_DIR/<target>/}, read only; the
 * inputs it finds go to a fresh {@code WORK_DIR/<target>/corpus/}) with libFuzzer's random seed
 * {@code SEED} ({@code -seed=}; 0 lets libFuzzer pick one and print it), so a seed replays the
 * same sequence of inputs and two runs differ mainly in how far into it their time takes them.
 * Jackson's symbol tables are not instrumented: they hash with a per-JVM seed ({@code
 * System.identityHashCode} of the factory), which made the coverage, and so the inputs kept,
 * differ between two runs with one seed from the first input on. A finding — an exception other
 * than the target's clean rejection, an OutOfMemoryError within the 1 GB heap, or an input running
 * over 60 s (generous: instrumenting the classes the first input loads takes seconds on a busy
 * 2-core machine) — stops that target, is written to {@code WORK_DIR/<target>/crash-*} (or {@code
 * oom-*}, {@code timeout-*}), and makes the campaign exit with status 1 after the other targets
 * ran. The build runs it from {@code mvn verify} for 5 s per target and from {@code mvn -Pfuzz
 * verify} for {@code -Dfuzz.seconds} (default 600), both with {@code -Dfuzz.seed} (default 1).
 */
public final class FuzzCampaign {
  private FuzzCampaign() {}

  public static void main(String[] args) throws IOException, InterruptedException {
    if (args.length != 4) {
      System.err.println("usage: FuzzCampaign SECONDS SEED SEEDS_DIR WORK_DIR");
      System.exit(2);
    }
    int seconds = Integer.parseInt(args[0]);
    long seed = Long.parseLong(args[1]);
    if (seed < 0 || seed > 0xFFFF_FFFFL) {
      System.err.println(
          "FuzzCampaign: SEED must be in [0, 4294967295] (libFuzzer's unsigned seed), got " + seed);
      System.exit(2);
    }
    Path seeds = Path.of(args[2]);
    Path work = Path.of(args[3]);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> failed = new ArrayList<>();
    for (String name : ParserFuzzTargets.NAMES) {
      Path out = Files.createDirectories(work.resolve(name));
      Path corpus = out.resolve("corpus");
      AtomicFiles.deleteTree(corpus); // what an earlier campaign found would change the run
      Files.createDirectories(corpus);
      String targetClass = ParserFuzzTargets.class.getName() + "$" + Character.toUpperCase(name.charAt(0))
          + name.substring(1);
      List<String> command = List.of(java, "-Xmx1g", "-cp", System.getProperty("java.class.path"),
          "com.code_intelligence.jazzer.Jazzer", "--target_class=" + targetClass,
          "--instrumentation_includes=ai.lmtrain.**:com.fasterxml.jackson.**",
          "--instrumentation_excludes=com.fasterxml.jackson.core.sym.**",
          "-max_total_time=" + seconds, "-seed=" + seed, "-timeout=60", "-rss_limit_mb=4096",
          "-print_final_stats=1",
          "-artifact_prefix=" + out.toAbsolutePath() + "/", corpus.toString(), seeds.resolve(name).toString());
      System.out.printf(Locale.ROOT, "fuzzing %s for %d s, seed %d%n", name, seconds, seed);
      int exit = new ProcessBuilder(command).inheritIO().start().waitFor();
      if (exit != 0) {
        failed.add(name + " (exit " + exit + ", finding in " + out + ")");
      }
    }
    int passed = ParserFuzzTargets.NAMES.size() - failed.size();
    System.out.printf(Locale.ROOT, "fuzz targets: %d passed, %d failed%s%n", passed, failed.size(),
        failed.isEmpty() ? "" : ": " + String.join("; ", failed));
    System.exit(failed.isEmpty() ? 0 : 1);
  }
}
