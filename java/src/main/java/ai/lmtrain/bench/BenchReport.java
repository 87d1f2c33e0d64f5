package ai.lmtrain.bench;

import java.util.List;

/**
 * What a suite measured: one table.
 *
 * @param suite the suite name
 * @param title one line saying what was measured and how
 * @param ours what "ours" is (backend, device, threads)
 * @param peer what the peer is, or why it is unavailable ("n/a: reason")
 * @param notes conditions that matter to read the figures (dropout, dtype, formulas)
 * @param rows the cases
 */
public record BenchReport(String suite, String title, String ours, String peer, List<String> notes,
    List<BenchRow> rows) {

  public BenchReport {
    notes = List.copyOf(notes);
    rows = List.copyOf(rows);
  }
}
