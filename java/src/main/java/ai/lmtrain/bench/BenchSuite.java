package ai.lmtrain.bench;

import ai.lmtrain.tensor.Device;
import java.util.List;

/**
 * A benchmark suite of {@code lmtrain bench}: measures our code and a peer in the same run on the
 * same machine and returns one table. Printing is {@link BenchOutput}'s.
 */
public interface BenchSuite {

  /** The name on the command line, e.g. "cpu". */
  String name();

  /** One line for the help text. */
  String description();

  /** The device kinds the suite runs on; the first is the default. */
  List<Device.Kind> deviceKinds();

  /** Runs every case. */
  BenchReport run(BenchContext context) throws Exception;
}
