package ai.lmtrain.train.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.nativebridge.LmtNative;
import ai.lmtrain.nativebridge.NativeCalls;
import ai.lmtrain.nativebridge.NativeException;
import ai.lmtrain.tensor.CpuBackend;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The collectives' C ABI refuses bad calls with a status and a message (no crash, no exit), and
 * the libraries it loads at run time fail to load with a message that says what to install or set.
 * None of this initialises MPI: that happens only in processes started by mpirun.
 */
class CommunicatorErrorsTest {

  @Test
  void badArgumentsAreErrors() {
    assertStatus("lmt_comm_all_reduce: comm is NULL (expected a communicator from lmt_comm_init_*)",
        LmtNative.lmt_comm_all_reduce(0, 0, 4, 0, 0));
    assertStatus("lmt_comm_barrier: comm is NULL (expected a communicator from lmt_comm_init_*)",
        LmtNative.lmt_comm_barrier(0));
    assertStatus("lmt_comm_init_mpi: timeout_s must be a finite number of seconds > 0 (got 0)",
        LmtNative.lmt_comm_init_mpi(new long[1], "/nowhere/liblmtrain_mpi.so", 0));
    assertStatus("lmt_comm_init_nccl: ctx is NULL (expected a context from lmt_ctx_create)",
        LmtNative.lmt_comm_init_nccl(new long[1], 0, new byte[128], 0, 1, null, 1));
    assertEquals(0, LmtNative.lmt_comm_destroy(0), "destroying NULL is a no-op");
  }

  @Test
  void ncclNeedsACudaContext() {
    try (CpuBackend cpu = new CpuBackend()) {
      NativeException e = assertThrows(NativeException.class,
          () -> NativeCommunicator.nccl(cpu.nativeContext(), cpu.device(), new byte[128], 0, 1, null, 5, null));
      assertEquals("lmt_comm_init_nccl: NCCL needs a CUDA context (got the CPU context; use lmt_comm_init_mpi)",
          e.getMessage());
    }
  }

  @Test
  void aMissingMpiShimOrNcclLibrarySaysWhatToDo() {
    NativeException shim = assertThrows(NativeException.class,
        () -> NativeCommunicator.mpi(Path.of("/nowhere/liblmtrain_mpi.so"), 5));
    assertTrue(shim.getMessage().startsWith("lmt_comm_init_mpi: cannot load the MPI shim /nowhere/liblmtrain_mpi.so: "),
        shim.getMessage());
    assertTrue(shim.getMessage().endsWith("(MPI runs need Open MPI's libmpi: apt-get install openmpi-bin"
        + " libopenmpi-dev)"), shim.getMessage());
    NativeException nccl = assertThrows(NativeException.class,
        () -> NativeCommunicator.ncclUniqueId("/nowhere/libnccl.so.2"));
    if (NativeCalls.hasCudaBackend()) {
      assertTrue(nccl.getMessage().startsWith("lmt_nccl_unique_id: cannot load NCCL; tried:\n  /nowhere/libnccl.so.2: "),
          nccl.getMessage());
      assertTrue(nccl.getMessage().contains("set LMTRAIN_NCCL_LIBRARY to the path of libnccl.so.2"), nccl.getMessage());
    } else {
      assertEquals("lmt_nccl_unique_id: this build of the native core has no CUDA backend, so no NCCL",
          nccl.getMessage());
    }
  }

  @Test
  void aLibraryThatIsNotTheShimIsRefused() {
    NativeException e = assertThrows(NativeException.class, () -> NativeCommunicator.mpi(Path.of("libm.so.6"), 5));
    assertEquals("lmt_comm_init_mpi: libm.so.6 has no symbol lmt_mpi_shim_get (not an lmtrain MPI shim)",
        e.getMessage());
  }

  private static void assertStatus(String message, int status) {
    assertEquals(1, status, message);
    assertEquals(message, LmtNative.lmt_last_error());
  }
}
