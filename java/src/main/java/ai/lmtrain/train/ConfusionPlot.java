package ai.lmtrain.train;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Draws a confusion matrix into a PNG, headless: one cell per (true label, predicted label), shaded
 * by the share of the true label's examples it holds (white 0 to dark blue 1), with the count in
 * the cell; true labels down the left, predictions along the top, accuracy and macro-F1 in the title.
 */
public final class ConfusionPlot {
  static {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  private static final int CELL = 64;
  private static final int MARGIN = 24;
  private static final Color DARK = new Color(0x08306b);

  private ConfusionPlot() {}

  /**
   * Renders the confusion matrix of {@code metrics}.
   *
   * @throws IllegalArgumentException when the metrics have no confusion matrix (multi-label)
   */
  public static BufferedImage render(ClassificationMetrics metrics) {
    long[][] counts = metrics.confusionMatrix();
    if (counts == null) {
      throw new IllegalArgumentException("multi-label metrics have no confusion matrix");
    }
    List<String> labels = metrics.labels();
    int n = labels.size();
    Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
    BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
    Graphics2D pg = probe.createGraphics();
    FontMetrics fm = pg.getFontMetrics(font);
    int labelWidth = labels.stream().mapToInt(fm::stringWidth).max().orElse(0) + 12;
    pg.dispose();
    int titleHeight = 56;
    int left = MARGIN + 20 + labelWidth;
    int top = titleHeight + labelWidth;
    int width = Math.max(left + n * CELL + MARGIN, 420);
    int height = top + n * CELL + MARGIN + 24;
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, width, height);
      g.setColor(Color.BLACK);
      g.setFont(font.deriveFont(Font.BOLD, 15f));
      g.drawString("Confusion matrix", MARGIN, 22);
      g.setFont(font);
      g.drawString(String.format("accuracy %.4f, macro-F1 %.4f", metrics.accuracy(), metrics.macroF1()), MARGIN, 42);
      for (int t = 0; t < n; t++) {
        long rowTotal = 0;
        for (long c : counts[t]) {
          rowTotal += c;
        }
        for (int p = 0; p < n; p++) {
          double share = rowTotal == 0 ? 0 : counts[t][p] / (double) rowTotal;
          Color fill = blend(share);
          g.setColor(fill);
          int x = left + p * CELL;
          int y = top + t * CELL;
          g.fillRect(x, y, CELL, CELL);
          g.setColor(share > 0.5 ? Color.WHITE : Color.BLACK);
          String text = Long.toString(counts[t][p]);
          g.drawString(text, x + (CELL - fm.stringWidth(text)) / 2, y + CELL / 2 + fm.getAscent() / 2 - 2);
        }
        g.setColor(Color.BLACK);
        g.drawString(labels.get(t), left - 6 - fm.stringWidth(labels.get(t)), top + t * CELL + CELL / 2 + 5);
      }
      AffineTransform straight = g.getTransform();
      for (int p = 0; p < n; p++) {
        g.setTransform(straight);
        g.translate(left + p * CELL + CELL / 2 + 5, top - 6);
        g.rotate(-Math.PI / 2);
        g.drawString(labels.get(p), 0, 0);
      }
      g.setTransform(straight);
      g.setColor(Color.GRAY);
      g.setStroke(new BasicStroke(1f));
      g.drawRect(left, top, n * CELL, n * CELL);
      g.setColor(Color.BLACK);
      g.drawString("rows: true label, columns: predicted label", MARGIN, height - MARGIN + 8);
    } finally {
      g.dispose();
    }
    return image;
  }

  /** Renders {@code metrics} and writes the PNG to {@code png} atomically. */
  public static void write(Path png, ClassificationMetrics metrics) throws IOException {
    LossPlot.writePng(png, render(metrics));
  }

  private static Color blend(double share) {
    return new Color((int) Math.round(255 + (DARK.getRed() - 255) * share),
        (int) Math.round(255 + (DARK.getGreen() - 255) * share), (int) Math.round(255 + (DARK.getBlue() - 255) * share));
  }
}
