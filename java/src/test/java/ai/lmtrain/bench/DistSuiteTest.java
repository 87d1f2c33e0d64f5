package ai.lmtrain.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.models.TinyModels;
import ai.lmtrain.tensor.Device;
import ai.lmtrain.train.dist.MpiJobs;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** {@code bench dist}'s plumbing at a tiny size: the peer in this JVM, ours as 2 ranks under mpirun, three rows. */
class DistSuiteTest {

  @Test
  void twoRanksAgainstOneProcess() throws Exception {
    MpiJobs.mpirunOrSkip();
    DistSuite suite = new DistSuite(new TrainCase("train gpt2 tiny", TinyModels.gpt2Config(), 4, 12));
    BenchReport r = suite.run(new BenchContext(Device.CPU, 0, 2, 2, PeerScripts.fromEnvironment(),
        new PrintWriter(new StringWriter())));
    assertEquals(3, r.rows().size());
    for (BenchRow row : r.rows()) {
      assertTrue(row.ours() > 0 && Double.isFinite(row.ours()), row.toString());
    }
    assertTrue(r.rows().get(0).peer() > 0 && Double.isFinite(r.rows().get(0).ratio()), r.rows().get(0).toString());
    assertTrue(r.ours().startsWith("2 MPI ranks x 1 thread(s), batch 2 per rank, mpirun (Open MPI)"), r.ours());
  }

  @Test
  void theBatchMustSplitOverTheRanks() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new DistSuite(new TrainCase("odd", TinyModels.gpt2Config(), 3, 12)));
    assertEquals("odd: batch 3 does not split over 2 ranks", e.getMessage());
  }
}
