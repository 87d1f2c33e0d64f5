package ai.lmtrain.train.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The MPI communicator's collectives in a real job of 3 ranks (a world that is not a power of two,
 * so Open MPI's non-trivial algorithms run): F32 sums over a million elements (exact values, and
 * the same bits on every rank for inexact ones), broadcast from the last rank, I32 min/max, I64
 * sums beyond 32 bits, host F64/I64 reductions, barrier, and DataParallel's set-up agreement.
 */
class MpiCollectivesTest {

  @Test
  void everyCollectiveOnThreeRanks() throws Exception {
    MpiJobs.Outcome job = MpiJobs.run(MpiJobs.command(3, CollectivesProbe.class.getName(), "3"), Map.of(), 180);
    assertEquals(0, job.exit(), job.output());
    assertEquals(3, job.output().lines().filter(l -> l.endsWith(": collectives ok")).count(), job.output());
  }
}
