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
 *       which may be waiting in a collective); ranks other than 0 wait {@value #REPORT_DELAY_MILLIS}
 *       ms first, so that an error of every rank is reported by rank 0 alone.</li>
 * </ul>
 * A single-process run just rethrows (the usual "error: ..." line).
 */
final class RankFailures {
  /**
   * How long a rank other than 0 waits before it reports a failure during training and aborts: an
   * error that every rank raises at once (a non-finite loss: the ranks share it through the
   * all-reduce) is then reported by rank 0 alone, whose abort ends the others first.
   */
  private static final long REPORT_DELAY_MILLIS = 2000;

  private RankFailures() {}

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static int run(DataParallel parallel, Callable<Integer> body) throws Exception {
    try {
      return body.call();
    } catch (PeerFailedException e) {
      return 1; // the failed rank reported it
    } catch (Exception | Error e) { // an Error too: leaving without the abort would hang the others' MPI_Finalize
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
      if (parallel.rank() != 0) {
        pause(REPORT_DELAY_MILLIS);
      }
      System.err.println("error: " + (e instanceof CollectiveException ? "" : where) + message(e));
      if ("1".equals(System.getenv("LMTRAIN_DEBUG"))) {
        e.printStackTrace();
      }
      parallel.communicator().abort(1);
      return 1;
    }
  }

  private static String message(Throwable e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
