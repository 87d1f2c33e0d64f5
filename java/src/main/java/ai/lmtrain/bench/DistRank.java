package ai.lmtrain.bench;

import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.ModelConfigs;
import ai.lmtrain.tensor.CpuBackend;
import ai.lmtrain.tensor.Tensor;
import ai.lmtrain.train.Precision;
import ai.lmtrain.train.dist.DataParallel;
import ai.lmtrain.train.dist.DistributedRuntime;
import ai.lmtrain.train.dist.Launch;
import ai.lmtrain.train.dist.ReduceOp;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;

/**
 * One rank of {@code bench dist} (started by {@link DistSuite} under mpirun): trains a case's
 * global batch data-parallel with the other ranks, timing the steps and the all-reduces in them,
 * then times bare all-reduces of the gradient buffer entered together (after a barrier). Rank 0
 * prints {@value #RESULT} followed by one JSON object.
 *
 * <p>Arguments: warm-up steps, timed steps, CPU threads per rank, and the case: name, config.json
 * path, global batch, sequence length.
 */
public final class DistRank {
  /** The prefix of rank 0's result line. */
  static final String RESULT = "lmtrain-bench-dist-result ";

  private DistRank() {}

  public static void main(String[] args) throws IOException {
    int warmup = Integer.parseInt(args[0]);
    int steps = Integer.parseInt(args[1]);
    int threads = Integer.parseInt(args[2]);
    TrainCase c = new TrainCase(args[3], ModelConfigs.read(Path.of(args[4])), Integer.parseInt(args[5]),
        Integer.parseInt(args[6]));
    Launch launch = Launch.detect(System.getenv());
    if (launch.kind() != Launch.Kind.MPI) {
      System.err.println("error: DistRank runs under mpirun (bench dist starts it)");
      System.exit(2);
    }
    try (DistributedRuntime runtime = DistributedRuntime.open(launch, "cpu", System.getenv())) {
      CpuBackend.setThreads(threads);
      TimedCommunicator timed = new TimedCommunicator(runtime.communicator());
      DataParallel parallel = new DataParallel(timed);
      try (LanguageModel model = c.newModel(runtime.backend(), Precision.FP32)) {
        parallel.start(model.parameters());
        TrainCase.StepTimes t = c.timeSteps(model, Precision.FP32, warmup, steps, parallel, timed::allReduceNanos);
        Tensor grads = model.parameters().gradAll();
        model.parameters().zeroGrads();
        double[] bare = new double[steps];
        for (int i = 0; i < warmup + steps; i++) {
          timed.barrier();
          long start = System.nanoTime();
          timed.allReduce(grads, ReduceOp.SUM);
          if (i >= warmup) {
            bare[i - warmup] = (System.nanoTime() - start) / 1e9;
          }
        }
        if (parallel.isRoot()) {
          System.out.println(RESULT + new ObjectMapper().createObjectNode().put("ranks", parallel.worldSize())
              .put("threads_per_rank", threads).put("step_seconds", Timing.median(t.seconds()))
              .put("step_allreduce_seconds", Timing.median(t.allReduceSeconds()))
              .put("allreduce_seconds", Timing.median(bare)).put("gradient_elements", grads.numel()));
          System.out.flush();
        }
      }
    } catch (RuntimeException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(1);
    }
  }
}
