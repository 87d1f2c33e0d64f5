package ai.lmtrain.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LossPlotTest {
  @TempDir Path dir;

  /** A run whose loss decays from {@code start}, with an eval point every 50 steps. */
  private static List<MetricsEvent> run(String name, double start, long tokensPerStep) {
    List<MetricsEvent> events = new ArrayList<>();
    for (long step = 1; step <= 200; step++) {
      events.add(MetricsEvent.train(name, step).loss(start * Math.exp(-step / 80.0) + 2 + 0.1 * Math.sin(step))
          .tokensSeen(step * tokensPerStep).build());
      if (step % 50 == 0) {
        events.add(MetricsEvent.eval(name, step).loss(start * Math.exp(-step / 80.0) + 2.2).build());
      }
    }
    return events;
  }

  @Test
  void writesAPngOfSeveralRunsWithTheRequestedSize() throws IOException {
    List<MetricsEvent> events = new ArrayList<>(run("bert", 8, 16384));
    events.addAll(run("gpt2", 9, 8192));
    Path png = dir.resolve("plots").resolve("loss.png");
    LossPlot.write(png, events, 800, 500);
    BufferedImage image = ImageIO.read(png.toFile());
    assertNotNull(image, "the PNG decodes");
    assertEquals(800, image.getWidth());
    assertEquals(500, image.getHeight());
    assertTrue(distinctColors(image) > 4, "the image is not blank");
  }

  @Test
  void plotsMetricsFilesWithTheDefaultSize() throws IOException {
    Path bert = dir.resolve("bert.jsonl");
    Path gpt2 = dir.resolve("gpt2.jsonl");
    try (MetricsLog a = MetricsLog.open(bert); MetricsLog b = MetricsLog.open(gpt2)) {
      for (MetricsEvent event : run("bert", 8, 4096)) {
        a.append(event);
      }
      for (MetricsEvent event : run("gpt2", 9, 4096)) {
        b.append(event);
      }
    }
    Path png = dir.resolve("loss.png");
    LossPlot.writeFromMetrics(png, List.of(bert, gpt2), LossPlot.DEFAULT_WIDTH, LossPlot.DEFAULT_HEIGHT);
    BufferedImage image = ImageIO.read(png.toFile());
    assertEquals(LossPlot.DEFAULT_WIDTH, image.getWidth());
    assertEquals(LossPlot.DEFAULT_HEIGHT, image.getHeight());
    try (var files = Files.list(dir)) {
      assertEquals(List.of(), files.filter(p -> p.getFileName().toString().startsWith(".")).toList(),
          "no temporary files are left");
    }
  }

  @Test
  void rejectsNothingToPlotAndBadSizes() {
    List<MetricsEvent> noLoss = List.of(MetricsEvent.train("bert", 1).lr(1e-4).build());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> LossPlot.render(noLoss, 100, 100));
    assertTrue(e.getMessage().contains("no loss values to plot"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> LossPlot.render(run("bert", 8, 1), 0, 100));
  }

  @Test
  void compactNumbers() {
    assertEquals("950", LossPlot.compact(950));
    assertEquals("16.4k", LossPlot.compact(16384));
    assertEquals("32.8M", LossPlot.compact(32_768_000));
    assertEquals("1.2B", LossPlot.compact(1.2e9));
  }

  private static int distinctColors(BufferedImage image) {
    java.util.Set<Integer> colors = new java.util.HashSet<>();
    for (int y = 0; y < image.getHeight(); y += 7) {
      for (int x = 0; x < image.getWidth(); x += 7) {
        colors.add(image.getRGB(x, y));
      }
    }
    return colors.size();
  }
}
