package ai.lmtrain.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The two renderings of a {@link BenchReport} shared by every suite: a text table and one JSON object. */
public final class BenchOutput {
  /** How a missing figure is printed. */
  public static final String MISSING = "n/a";

  private static final ObjectMapper JSON = new ObjectMapper();

  private BenchOutput() {}

  /**
   * Prints the title, what ours and the peer are, a table (case, unit, ours, peer, ratio) and the
   * notes.
   */
  public static void printTable(PrintWriter out, BenchReport report) {
    out.println(report.suite() + ": " + report.title());
    out.println("  ours: " + report.ours());
    out.println("  peer: " + report.peer());
    out.println("  ratio: our speed / peer speed (> 1: ours is faster); MiB rows: peer memory / ours (> 1: ours needs"
        + " less)");
    List<String[]> cells = new ArrayList<>();
    cells.add(new String[] {"case", "unit", "ours", "peer", "ratio"});
    for (BenchRow r : report.rows()) {
      cells.add(new String[] {r.name(), r.unit().symbol(), figure(r.ours()), figure(r.peer()), ratio(r.ratio())});
    }
    int[] width = new int[5];
    for (String[] row : cells) {
      for (int i = 0; i < row.length; i++) {
        width[i] = Math.max(width[i], row[i].length());
      }
    }
    for (String[] row : cells) {
      StringBuilder line = new StringBuilder(String.format("%-" + width[0] + "s  %-" + width[1] + "s", row[0], row[1]));
      for (int i = 2; i < row.length; i++) {
        line.append(String.format("  %" + width[i] + "s", row[i]));
      }
      out.println(line);
    }
    for (String note : report.notes()) {
      out.println("  note: " + note);
    }
    out.flush();
  }

  /**
   * The report as one JSON object: suite, title, ours, peer, notes and cases [{case, unit, ours,
   * peer, ratio}], with null for a missing figure.
   */
  public static ObjectNode toJson(BenchReport report) {
    ObjectNode root = JSON.createObjectNode().put("suite", report.suite()).put("title", report.title())
        .put("ours", report.ours()).put("peer", report.peer());
    ArrayNode notes = root.putArray("notes");
    report.notes().forEach(notes::add);
    ArrayNode cases = root.putArray("cases");
    for (BenchRow r : report.rows()) {
      ObjectNode c = cases.addObject().put("case", r.name()).put("unit", r.unit().symbol());
      putFigure(c, "ours", r.ours());
      putFigure(c, "peer", r.peer());
      putFigure(c, "ratio", r.ratio());
    }
    return root;
  }

  private static void putFigure(ObjectNode node, String key, double value) {
    if (Double.isFinite(value)) {
      node.put(key, value);
    } else {
      node.putNull(key);
    }
  }

  /** Three significant digits or more: 0.123, 12.3, 123, 12345. */
  static String figure(double v) {
    if (!Double.isFinite(v)) {
      return MISSING;
    }
    double a = Math.abs(v);
    String format = a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3f";
    return String.format(Locale.ROOT, format, v);
  }

  private static String ratio(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f", v) : MISSING;
  }
}
