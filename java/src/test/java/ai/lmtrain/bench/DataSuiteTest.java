package ai.lmtrain.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.tensor.Device;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** {@code bench data} on one copy of tinyshakespeare: both thread counts, all three units, ours and the peer measured. */
class DataSuiteTest {

  @Test
  void measuresPrepareDataAndJtokkitOnOneAndTwoThreads() throws Exception {
    BenchReport r = new DataSuite(1).run(new BenchContext(Device.CPU, 0, 1, 2, PeerScripts.fromEnvironment(),
        new PrintWriter(new StringWriter())));
    assertEquals("data", r.suite());
    assertEquals(6, r.rows().size());
    assertEquals("prepare-data, 1 thread", r.rows().get(0).name());
    assertEquals("prepare-data, 2 threads", r.rows().get(3).name());
    for (BenchRow row : r.rows()) {
      assertTrue(row.ours() > 0 && row.peer() > 0 && row.ratio() > 0, row.toString());
    }
    assertEquals(Unit.TOKENS_PER_S, r.rows().get(1).unit());
    assertEquals(Unit.CPU_MS_PER_MB, r.rows().get(2).unit());
  }
}
