package ai.lmtrain.cli;

import ai.lmtrain.train.dist.CollectiveException;
import ai.lmtrain.train.dist.DataParallel;
import ai.lmtrain.train.dist.PeerFailedException;
import java.util.concurrent.Callable;

/**
 * Runs a command as one rank of a data-parallel job so that a failure is reported once and
 * stops every rank:
 * <ul>
 *   <li>before training starts (bad flags, files, configs: usually the same on every rank), the
 *       failing ranks join the set-up's first collective ({@link DataParallel#reportSetupFailure}),
 *       the lowest failing rank prints its error, and every rank ends with exit code 1;</li>
 *   <li>once training has started, or when a collective failed (a peer died or hung), the failing
 *       rank prints its error and aborts the job (MPI_Abort: the launcher ends the other ranks,
 *       which may be waiting in a collective).</li>
 * </ul>
 * A single-process run just rethrows (the usual "error: ..." line).
 */
final class RankFailures {
  private RankFailures() {}

  static int run(DataParallel parallel, Callable<Integer> body) throws Exception {
    try {
      return body.call();
    } catch (PeerFailedException e) {
      return 1; // the failed rank reported it
    } catch (Exception e) {
      if (parallel.worldSize() == 1) {
        throw e;
      }
      String where = "rank " + parallel.rank() + " of " + parallel.worldSize() + ": ";
      if (!parallel.started() && !(e instanceof CollectiveException)) {
        int reporter = parallel.reportSetupFailure();
        if (reporter != parallel.rank()) {
          return 1; // a lower rank failed too and reports (usually the same error)
        }
        if (parallel.rank() == 0) {
          throw e;
        }
        throw new IllegalStateException(where + message(e), e);
      }
      System.err.println("error: " + (e instanceof CollectiveException ? "" : where) + message(e));
      if ("1".equals(System.getenv("LMTRAIN_DEBUG"))) {
        e.printStackTrace();
      }
      parallel.communicator().abort(1);
      return 1;
    }
  }

  private static String message(Exception e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
