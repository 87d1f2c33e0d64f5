package ai.lmtrain.train.dist;

import ai.lmtrain.nativebridge.NativeLibraries;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.Backends;
import ai.lmtrain.tensor.CpuBackend;
import ai.lmtrain.tensor.Device;
import ai.lmtrain.tensor.NativeBackend;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * The backend and communicator of one rank, opened in the order a distributed run needs:
 * <ol>
 *   <li>MPI launch: join the MPI job (it says this rank's place on its node);</li>
 *   <li>pick the device: {@code cuda} means {@code cuda:LOCAL_RANK}, {@code cuda:N} stays N; on
 *       the CPU each rank's thread pool gets its share of the cores it may run on (the cores of
 *       its affinity mask divided by the ranks on the node, at least 1);</li>
 *   <li>open the backend;</li>
 *   <li>CUDA: rank 0 makes an NCCL unique id, handed to the others over MPI (or, for PyTorch's
 *       env:// launch, over TCP on MASTER_ADDR:MASTER_PORT), and every rank joins the NCCL
 *       clique. CPU: the MPI communicator is the data-parallel one.</li>
 * </ol>
 * A single-process launch opens the backend only. Environment: {@value #TIMEOUT_ENV} (seconds a
 * collective waits for the other ranks, default {@value #DEFAULT_TIMEOUT_SECONDS}) and
 * {@value #NCCL_LIBRARY_ENV} (path of libnccl.so.2).
 */
public final class DistributedRuntime implements AutoCloseable {
  /** Seconds a collective waits for the other ranks before the job is declared broken. */
  public static final String TIMEOUT_ENV = "LMTRAIN_DIST_TIMEOUT";
  /** Path of libnccl.so.2 when it is not on the loader's search path. */
  public static final String NCCL_LIBRARY_ENV = "LMTRAIN_NCCL_LIBRARY";
  static final double DEFAULT_TIMEOUT_SECONDS = 600;
  private static final int NCCL_ID_BYTES = 128;

  private final Launch launch;
  private final Backend backend;
  private final Communicator communicator;
  private final DataParallel dataParallel;

  private DistributedRuntime(Launch launch, Backend backend, Communicator communicator) {
    this.launch = launch;
    this.backend = backend;
    this.communicator = communicator;
    this.dataParallel = new DataParallel(communicator);
  }

  /**
   * Opens this rank's backend on {@code device} ("cpu", "cuda" or "cuda:N") and joins the job
   * {@code launch} describes, with settings from {@code env}.
   */
  public static DistributedRuntime open(Launch launch, String device, Map<String, String> env) {
    double timeout = timeoutSeconds(env);
    String ncclLibrary = env.get(NCCL_LIBRARY_ENV);
    boolean cuda = !Device.parse(device).equals(Device.CPU);
    switch (launch.kind()) {
      case SINGLE:
        return new DistributedRuntime(launch, Backends.open(Device.parse(device)), Communicator.single());
      case ENV:
        return openEnv(launch, device, cuda, ncclLibrary, timeout);
      case MPI:
      default:
        return openMpi(launch, device, cuda, ncclLibrary, timeout);
    }
  }

  private static DistributedRuntime openMpi(Launch launch, String device, boolean cuda, String ncclLibrary,
      double timeout) {
    Path shim = NativeLibraries.mpiShim().orElseThrow(() -> new IllegalStateException("this process was started by an"
        + " MPI launcher, but this build of lmtrain has no MPI shim (" + NativeLibraries.MPI_SHIM + "): CMake found no"
        + " MPI when it was built; install openmpi-bin and libopenmpi-dev and rebuild"));
    NativeCommunicator mpi = NativeCommunicator.mpi(shim, timeout);
    Backend backend = null;
    try {
      if (launch.worldSize() > 0 && (launch.worldSize() != mpi.worldSize() || launch.rank() != mpi.rank())) {
        throw new IllegalStateException("the launcher started rank " + launch.rank() + " of " + launch.worldSize()
            + " but MPI_Init joined rank " + mpi.rank() + " of " + mpi.worldSize() + " (under Slurm, start srun with"
            + " --mpi=pmix so that Open MPI can join the job)");
      }
      if (!cuda) {
        CpuBackend.setThreads(threadsPerRank(Runtime.getRuntime().availableProcessors(), mpi.localSize()));
        return new DistributedRuntime(launch, Backends.open(Device.CPU), mpi);
      }
      backend = Backends.open(rankDevice(device, mpi.localRank()));
      long[] packed = pack(mpi.isRoot() ? NativeCommunicator.ncclUniqueId(ncclLibrary) : new byte[NCCL_ID_BYTES]);
      mpi.allReduce(packed, ReduceOp.SUM); // rank 0's id plus zeros from everyone else: a broadcast
      NativeCommunicator nccl = NativeCommunicator.nccl(((NativeBackend) backend).nativeContext(), backend.device(),
          unpack(packed), mpi.rank(), mpi.worldSize(), ncclLibrary, timeout, mpi);
      return new DistributedRuntime(launch, backend, nccl);
    } catch (RuntimeException e) {
      if (backend != null) {
        backend.close();
      }
      // No MPI_Finalize here: it waits for every rank, and the others may be waiting in a collective.
      // Exiting without it makes mpirun end the job.
      throw e;
    }
  }

  private static DistributedRuntime openEnv(Launch launch, String device, boolean cuda, String ncclLibrary,
      double timeout) {
    if (!cuda) {
      throw new IllegalArgumentException("RANK/WORLD_SIZE (PyTorch's env:// launch) start distributed runs with --device"
          + " cuda only (NCCL); CPU runs exchange gradients over MPI: start them with mpirun, srun or 'lmtrain launch'");
    }
    if (launch.agentStore()) {
      throw new IllegalArgumentException("started by torchrun, whose agent serves its own store on MASTER_PORT="
          + launch.masterPort() + " (a protocol lmtrain does not speak); start lmtrain with mpirun, srun or 'lmtrain"
          + " launch', or set RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT yourself");
    }
    Backend backend = Backends.open(rankDevice(device, Math.max(0, launch.localRank())));
    try {
      byte[] id = launch.rank() == 0 ? NativeCommunicator.ncclUniqueId(ncclLibrary) : null;
      id = TcpIdExchange.exchange(launch.rank(), launch.worldSize(), launch.masterAddr(), launch.masterPort(), id,
          NCCL_ID_BYTES, timeout);
      NativeCommunicator nccl = NativeCommunicator.nccl(((NativeBackend) backend).nativeContext(), backend.device(),
          id, launch.rank(), launch.worldSize(), ncclLibrary, timeout, null);
      return new DistributedRuntime(launch, backend, nccl);
    } catch (IOException e) {
      backend.close();
      throw new UncheckedIOException(e.getMessage(), e);
    } catch (RuntimeException e) {
      backend.close();
      throw e;
    }
  }

  /** "cuda" is the rank's GPU on its node; "cuda:N" and "cpu" are taken as they are. */
  static Device rankDevice(String device, int localRank) {
    String d = device.trim().toLowerCase(Locale.ROOT);
    return d.equals("cuda") ? Device.cuda(Math.max(0, localRank)) : Device.parse(d);
  }

  /** The CPU threads of one rank: its cores divided among the ranks of its node, at least one. */
  static int threadsPerRank(int availableProcessors, int localSize) {
    return Math.max(1, availableProcessors / Math.max(1, localSize));
  }

  static double timeoutSeconds(Map<String, String> env) {
    String text = env.get(TIMEOUT_ENV);
    if (text == null || text.isBlank()) {
      return DEFAULT_TIMEOUT_SECONDS;
    }
    try {
      double seconds = Double.parseDouble(text.trim());
      if (seconds > 0 && Double.isFinite(seconds)) {
        return seconds;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(TIMEOUT_ENV + "=" + text + " is not a number of seconds > 0");
  }

  private static long[] pack(byte[] bytes) {
    long[] out = new long[bytes.length / Long.BYTES];
    for (int i = 0; i < bytes.length; i++) {
      out[i / Long.BYTES] |= (bytes[i] & 0xFFL) << (8 * (i % Long.BYTES));
    }
    return out;
  }

  private static byte[] unpack(long[] words) {
    byte[] out = new byte[words.length * Long.BYTES];
    for (int i = 0; i < out.length; i++) {
      out[i] = (byte) (words[i / Long.BYTES] >>> (8 * (i % Long.BYTES)));
    }
    return out;
  }

  public Launch launch() {
    return launch;
  }

  /** This rank's backend. */
  public Backend backend() {
    return backend;
  }

  /** The data-parallel communicator (single-process for a plain run). */
  public Communicator communicator() {
    return communicator;
  }

  /** The Trainer's view of the communicator. */
  public DataParallel dataParallel() {
    return dataParallel;
  }

  /** Leaves the job (NCCL, then MPI) and closes the backend. */
  @Override
  public void close() {
    try {
      communicator.close();
    } finally {
      backend.close();
    }
  }
}
