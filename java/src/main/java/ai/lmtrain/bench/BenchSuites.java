package ai.lmtrain.bench;

import java.util.List;
import java.util.Optional;

/** The suites of {@code lmtrain bench}. */
public final class BenchSuites {
  private BenchSuites() {}

  /** Every suite, in help order. */
  public static List<BenchSuite> all() {
    return List.of(CpuSuite.standard(), KernelsSuite.standard(), TrainSuite.standard(), new TokenizerSuite(),
        new DataSuite(), DistSuite.standard());
  }

  /** The suite called {@code name}. */
  public static Optional<BenchSuite> named(String name) {
    return all().stream().filter(s -> s.name().equals(name)).findFirst();
  }

  /** The names, comma-separated. */
  public static String names() {
    return String.join(", ", all().stream().map(BenchSuite::name).toList());
  }
}
