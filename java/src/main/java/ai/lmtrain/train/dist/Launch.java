package ai.lmtrain.train.dist;

import java.util.Map;

/**
 * How this process was started, read from the launcher's environment variables:
 * <ul>
 *   <li>{@link Kind#MPI}: Open MPI's mpirun ({@code OMPI_COMM_WORLD_RANK/SIZE/LOCAL_RANK/LOCAL_SIZE}),
 *       an MPICH-style launcher ({@code PMI_RANK/PMI_SIZE}), Slurm's srun ({@code SLURM_PROCID},
 *       {@code SLURM_STEP_NUM_TASKS}, {@code SLURM_LOCALID}) or another PMIx launcher
 *       ({@code PMIX_RANK}); MPI_Init then joins the job.</li>
 *   <li>{@link Kind#ENV}: PyTorch's {@code env://} variables ({@code RANK}, {@code WORLD_SIZE},
 *       {@code LOCAL_RANK}, {@code LOCAL_WORLD_SIZE}, {@code MASTER_ADDR}, {@code MASTER_PORT}) without
 *       an MPI launcher: rank 0 serves the NCCL id on MASTER_ADDR:MASTER_PORT (CUDA only).</li>
 *   <li>{@link Kind#SINGLE}: none of these, or a world of one: the plain run.</li>
 * </ul>
 *
 * @param kind the launcher family
 * @param rank this process's rank (-1 where the variables do not say)
 * @param worldSize number of ranks (-1 where the variables do not say)
 * @param localRank rank on this node (-1 where the variables do not say)
 * @param localWorldSize ranks on this node (-1 where the variables do not say)
 * @param masterAddr MASTER_ADDR ({@link Kind#ENV} only, else null)
 * @param masterPort MASTER_PORT ({@link Kind#ENV} only, else -1)
 * @param agentStore whether torchrun's agent hosts a store on MASTER_PORT ({@code TORCHELASTIC_USE_AGENT_STORE})
 */
public record Launch(Kind kind, int rank, int worldSize, int localRank, int localWorldSize, String masterAddr,
    int masterPort, boolean agentStore) {

  /** Launcher families. */
  public enum Kind {
    SINGLE,
    MPI,
    ENV
  }

  /** The plain, single-process run. */
  public static final Launch SINGLE = new Launch(Kind.SINGLE, 0, 1, 0, 1, null, -1, false);

  /** Reads the launch from environment variables (normally {@code System.getenv()}). */
  public static Launch detect(Map<String, String> env) {
    Launch launch;
    if (env.containsKey("OMPI_COMM_WORLD_SIZE")) {
      launch = mpi(env, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
          "OMPI_COMM_WORLD_LOCAL_SIZE");
    } else if (env.containsKey("PMI_SIZE")) {
      launch = mpi(env, "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS");
    } else if (env.containsKey("SLURM_STEP_NUM_TASKS") && env.containsKey("SLURM_PROCID")) {
      launch = mpi(env, "SLURM_PROCID", "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID", null);
    } else if (env.containsKey("PMIX_RANK")) {
      launch = mpi(env, "PMIX_RANK", null, null, null);
    } else if (env.containsKey("RANK") && env.containsKey("WORLD_SIZE")) {
      int size = number(env, "WORLD_SIZE", 1);
      int rank = number(env, "RANK", 0);
      if (rank >= size) {
        throw new IllegalArgumentException("RANK=" + rank + " must be below WORLD_SIZE=" + size);
      }
      if (size > 1 && (!env.containsKey("MASTER_ADDR") || !env.containsKey("MASTER_PORT"))) {
        throw new IllegalArgumentException("RANK and WORLD_SIZE are set but MASTER_ADDR or MASTER_PORT is not (PyTorch's"
            + " env:// launch needs all four)");
      }
      launch = new Launch(Kind.ENV, rank, size, optional(env, "LOCAL_RANK"), optional(env, "LOCAL_WORLD_SIZE"),
          env.get("MASTER_ADDR"), size > 1 ? number(env, "MASTER_PORT", 1) : -1,
          "true".equalsIgnoreCase(env.getOrDefault("TORCHELASTIC_USE_AGENT_STORE", "")));
    } else {
      return SINGLE;
    }
    return launch.worldSize() == 1 ? SINGLE : launch;
  }

  /** Whether this process is one of several. */
  public boolean distributed() {
    return kind != Kind.SINGLE;
  }

  private static Launch mpi(Map<String, String> env, String rank, String size, String localRank, String localSize) {
    int r = number(env, rank, 0);
    int s = size == null ? -1 : number(env, size, 1);
    if (s > 0 && r >= s) {
      throw new IllegalArgumentException(rank + "=" + r + " must be below " + size + "=" + s);
    }
    return new Launch(Kind.MPI, r, s, localRank == null ? -1 : optional(env, localRank),
        localSize == null ? -1 : optional(env, localSize), null, -1, false);
  }

  private static int optional(Map<String, String> env, String name) {
    return env.containsKey(name) ? number(env, name, 0) : -1;
  }

  private static int number(Map<String, String> env, String name, int min) {
    String text = env.get(name);
    if (text == null) {
      throw new IllegalArgumentException("environment variable " + name + " is not set");
    }
    try {
      int value = Integer.parseInt(text.trim());
      if (value < min) {
        throw new NumberFormatException();
      }
      return value;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("environment variable " + name + "=" + text + " is not an integer >= " + min);
    }
  }
}
