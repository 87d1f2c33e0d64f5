package ai.lmtrain.train.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.tensor.Device;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Launch detection from each launcher's variables, the rank's device and threads, and the timeout setting. */
class LaunchTest {

  @Test
  void noLauncherOrAWorldOfOneIsThePlainRun() {
    assertEquals(Launch.SINGLE, Launch.detect(Map.of()));
    assertEquals(Launch.SINGLE, Launch.detect(Map.of("OMPI_COMM_WORLD_SIZE", "1", "OMPI_COMM_WORLD_RANK", "0")));
    assertEquals(Launch.SINGLE, Launch.detect(Map.of("RANK", "0", "WORLD_SIZE", "1")));
    assertFalse(Launch.SINGLE.distributed());
  }

  @Test
  void mpiLaunchers() {
    Launch ompi = Launch.detect(Map.of("OMPI_COMM_WORLD_SIZE", "4", "OMPI_COMM_WORLD_RANK", "3",
        "OMPI_COMM_WORLD_LOCAL_RANK", "1", "OMPI_COMM_WORLD_LOCAL_SIZE", "2", "RANK", "9", "WORLD_SIZE", "10"));
    assertEquals(new Launch(Launch.Kind.MPI, 3, 4, 1, 2, null, -1, false), ompi);
    assertEquals(new Launch(Launch.Kind.MPI, 1, 2, -1, -1, null, -1, false),
        Launch.detect(Map.of("PMI_SIZE", "2", "PMI_RANK", "1")));
    assertEquals(new Launch(Launch.Kind.MPI, 5, 8, 1, -1, null, -1, false),
        Launch.detect(Map.of("SLURM_PROCID", "5", "SLURM_STEP_NUM_TASKS", "8", "SLURM_LOCALID", "1")));
    assertEquals(new Launch(Launch.Kind.MPI, 2, -1, -1, -1, null, -1, false), Launch.detect(Map.of("PMIX_RANK", "2")));
    // An sbatch script outside srun is not a job step of several tasks.
    assertEquals(Launch.SINGLE, Launch.detect(Map.of("SLURM_PROCID", "0", "SLURM_NTASKS", "8")));
  }

  @Test
  void pytorchEnvLaunch() {
    Launch env = Launch.detect(Map.of("RANK", "1", "WORLD_SIZE", "2", "LOCAL_RANK", "1", "LOCAL_WORLD_SIZE", "2",
        "MASTER_ADDR", "node0", "MASTER_PORT", "29500"));
    assertEquals(new Launch(Launch.Kind.ENV, 1, 2, 1, 2, "node0", 29500, false), env);
    assertTrue(Launch.detect(Map.of("RANK", "1", "WORLD_SIZE", "2", "MASTER_ADDR", "a", "MASTER_PORT", "1",
        "TORCHELASTIC_USE_AGENT_STORE", "True")).agentStore());
  }

  @Test
  void badVariablesNameTheVariable() {
    assertMessage("environment variable OMPI_COMM_WORLD_RANK=x is not an integer >= 0",
        Map.of("OMPI_COMM_WORLD_SIZE", "2", "OMPI_COMM_WORLD_RANK", "x"));
    assertMessage("OMPI_COMM_WORLD_RANK=2 must be below OMPI_COMM_WORLD_SIZE=2",
        Map.of("OMPI_COMM_WORLD_SIZE", "2", "OMPI_COMM_WORLD_RANK", "2"));
    assertMessage("RANK and WORLD_SIZE are set but MASTER_ADDR or MASTER_PORT is not (PyTorch's env:// launch needs all"
        + " four)", Map.of("RANK", "0", "WORLD_SIZE", "2"));
    assertMessage("environment variable WORLD_SIZE=0 is not an integer >= 1", Map.of("RANK", "0", "WORLD_SIZE", "0"));
  }

  @Test
  void deviceThreadsAndTimeoutOfARank() {
    assertEquals(Device.cuda(3), DistributedRuntime.rankDevice("cuda", 3));
    assertEquals(Device.cuda(1), DistributedRuntime.rankDevice("cuda:1", 3));
    assertEquals(Device.CPU, DistributedRuntime.rankDevice("cpu", 3));
    assertEquals(1, DistributedRuntime.threadsPerRank(2, 2));
    assertEquals(1, DistributedRuntime.threadsPerRank(1, 2));
    assertEquals(8, DistributedRuntime.threadsPerRank(16, 2));
    assertEquals(16, DistributedRuntime.threadsPerRank(16, -1));
    assertEquals(600, DistributedRuntime.timeoutSeconds(Map.of()));
    assertEquals(2.5, DistributedRuntime.timeoutSeconds(Map.of(DistributedRuntime.TIMEOUT_ENV, "2.5")));
    for (String bad : new String[] {"0", "-1", "soon", "NaN"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> DistributedRuntime.timeoutSeconds(Map.of(DistributedRuntime.TIMEOUT_ENV, bad)));
      assertEquals("LMTRAIN_DIST_TIMEOUT=" + bad + " is not a number of seconds > 0", e.getMessage());
    }
  }

  @Test
  void theEnvLaunchRefusesTheCpuAndTorchrunsAgentStore() {
    Launch cpu = new Launch(Launch.Kind.ENV, 0, 2, 0, 2, "localhost", 29500, false);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DistributedRuntime.open(cpu, "cpu", Map.of()));
    assertTrue(e.getMessage().startsWith("RANK/WORLD_SIZE (PyTorch's env:// launch) start distributed runs with --device"
        + " cuda only"), e.getMessage());
    Launch torchrun = new Launch(Launch.Kind.ENV, 0, 2, 0, 2, "localhost", 29500, true);
    e = assertThrows(IllegalArgumentException.class, () -> DistributedRuntime.open(torchrun, "cuda", Map.of()));
    assertTrue(e.getMessage().startsWith("started by torchrun, whose agent serves its own store on MASTER_PORT=29500"),
        e.getMessage());
  }

  private static void assertMessage(String expected, Map<String, String> env) {
    assertEquals(expected, assertThrows(IllegalArgumentException.class, () -> Launch.detect(env)).getMessage());
  }
}
