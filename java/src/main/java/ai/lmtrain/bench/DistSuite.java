package ai.lmtrain.bench;

import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.CpuBackend;
import ai.lmtrain.tensor.Device;
import ai.lmtrain.train.Precision;
import ai.lmtrain.train.dist.MpiLauncher;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code bench dist}: data-parallel CPU training over MPI against one process using the same
 * cores. A training case (by default the 6-layer GPT-2 of {@code bench cpu}, global batch 8)
 * trains as 1 process with T threads (the peer, measured first, in this JVM) and as 2 ranks with
 * T / 2 threads each (ours: {@link DistRank} under mpirun, half the batch per rank), the same
 * methodology as {@code bench cpu}
 * (JVM warm-up, warm-up steps, the median of the timed steps). Also reported: the time a step
 * spends in its all-reduces (waiting for the slower rank included) and a bare all-reduce of the
 * gradient buffer, the ranks entering together.
 */
public final class DistSuite implements BenchSuite {
  private static final int RANKS = 2;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final TrainCase trainCase;

  /** A suite over {@code trainCase}, whose batch (the global batch) must split evenly over 2 ranks. */
  public DistSuite(TrainCase trainCase) {
    if (trainCase.batch() % RANKS != 0) {
      throw new IllegalArgumentException(trainCase.name() + ": batch " + trainCase.batch() + " does not split over "
          + RANKS + " ranks");
    }
    this.trainCase = trainCase;
  }

  /** The 6-layer GPT-2 case of bench cpu. */
  public static DistSuite standard() {
    return new DistSuite(CpuSuite.sixLayerGpt2());
  }

  @Override
  public String name() {
    return "dist";
  }

  @Override
  public String description() {
    return "CPU training steps/s: 2 MPI processes x T/2 threads vs 1 process x T threads, and the all-reduce time";
  }

  @Override
  public List<Device.Kind> deviceKinds() {
    return List.of(Device.Kind.CPU);
  }

  @Override
  public BenchReport run(BenchContext ctx) throws Exception {
    int threads = ctx.threads() > 0 ? ctx.threads() : Runtime.getRuntime().availableProcessors();
    int perRank = Math.max(1, threads / RANKS);
    TrainCase c = trainCase;
    CpuBackend.setThreads(threads);
    ctx.log("dist: 1 process x " + threads + " threads");
    double single;
    long gradients;
    try (Backend backend = new CpuBackend(); LanguageModel model = c.newModel(backend, Precision.FP32)) {
      single = c.medianStepSeconds(model, Precision.FP32, ctx.warmup(), ctx.repetitions());
      gradients = model.parameters().table().totalElements();
    }
    JsonNode ranks = null;
    String oursText = RANKS + " MPI ranks x " + perRank + " thread(s), batch " + c.batch() / RANKS + " per rank";
    Optional<Path> mpirun = MpiLauncher.findMpirun();
    if (mpirun.isEmpty()) {
      oursText = "n/a: mpirun is not on the PATH (apt-get install openmpi-bin libopenmpi-dev)";
    } else {
      ctx.log("dist: " + RANKS + " processes x " + perRank + " thread(s) under mpirun");
      ranks = runRanks(mpirun.get(), ctx, c, perRank);
      oursText += ", " + mpiVersion(mpirun.get());
    }
    double nan = Double.NaN;
    List<BenchRow> rows = List.of(
        new BenchRow(c.name() + " (ours " + RANKS + "x" + perRank + " vs 1x" + threads + ")", Unit.STEPS_PER_S,
            ranks == null ? nan : 1 / ranks.get("step_seconds").asDouble(), 1 / single),
        new BenchRow("  of which all-reduces (2 ranks, waiting included)", Unit.MS_PER_STEP,
            ranks == null ? nan : Unit.MS_PER_STEP.of(0, ranks.get("step_allreduce_seconds").asDouble()), nan),
        new BenchRow("all-reduce of the " + gradients + " F32 gradients (2 ranks)", Unit.MILLISECONDS,
            ranks == null ? nan : Unit.MILLISECONDS.of(0, ranks.get("allreduce_seconds").asDouble()), nan));
    return new BenchReport(name(), "fp32 CPU training, " + c.name() + " (global batch " + c.batch() + "); median of "
        + ctx.repetitions() + " timed steps after " + ctx.warmup() + " warm-up steps (and the JVM warm-up of bench cpu)",
        oursText, "1 process x " + threads + " threads, batch " + c.batch() + " (the plain run)", List.of(
            "ours: each rank collates the global batch and trains its rows; one all-reduce (sum) of the gradient"
                + " buffer and one of the loss per step: MPI_Allreduce (Open MPI's ring algorithm) over shared memory",
            "the bare all-reduce: the ranks meet at a barrier first, so it excludes waiting for a slower rank",
            "peer measured first, then ours: the two never share the cores"), rows);
  }

  private static JsonNode runRanks(Path mpirun, BenchContext ctx, TrainCase c, int perRank)
      throws IOException, InterruptedException {
    Path config = Files.createTempFile("lmtrain-bench-dist", ".json");
    try {
      Files.writeString(config, c.config().toJson());
      List<String> program = new ArrayList<>(MpiLauncher.thisJava(DistRank.class.getName()));
      program.addAll(List.of(String.valueOf(ctx.warmup()), String.valueOf(ctx.repetitions()), String.valueOf(perRank),
          c.name(), config.toString(), String.valueOf(c.batch()), String.valueOf(c.seqLen())));
      List<String> cmd = MpiLauncher.command(mpirun, RANKS, Runtime.getRuntime().availableProcessors(),
          MpiLauncher.runningAsRoot(), List.of(), program);
      Process job = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String output = new String(job.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int exit = job.waitFor();
      for (String line : output.lines().toList()) {
        if (line.startsWith(DistRank.RESULT) && exit == 0) {
          return JSON.readTree(line.substring(DistRank.RESULT.length()));
        }
      }
      throw new IllegalStateException("bench dist: the ranks failed (mpirun exit " + exit + "):\n" + output.strip());
    } finally {
      Files.deleteIfExists(config);
    }
  }

  private static String mpiVersion(Path mpirun) {
    try {
      Process p = new ProcessBuilder(mpirun.toString(), "--version").redirectErrorStream(true).start();
      String first = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().findFirst().orElse("");
      p.waitFor();
      return first.strip();
    } catch (IOException e) {
      return "mpirun --version failed: " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "mpirun --version interrupted";
    }
  }
}
