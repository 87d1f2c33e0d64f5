package ai.lmtrain.train;

import ai.lmtrain.io.AtomicFiles;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Draws the train and validation loss of one or several runs ("bert", "gpt2", ...) against the
 * optimizer step into a PNG, headless.
 *
 * <p>Tokens seen: XChart has no second x axis, so the token scale is stated honestly from the
 * data. For each run the tokens per step is {@code tokens_seen / step} of its latest train event.
 * When every run has the same constant rate, each x tick reads {@code "step (tokens)"}, e.g.
 * {@code "2,000 (32.8M)"}; otherwise the x-axis title lists each run's rate, e.g. {@code "bert:
 * 16.4k tokens/step, gpt2: 8.2k tokens/step"} ({@code "≈"} marks a rate that varies, as with
 * unpadded MLM token counts). Train loss is a solid line, eval loss a dashed line with markers in
 * the run's color. Events without a finite loss are skipped.
 */
public final class LossPlot {
  static {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  /** Default image size in pixels. */
  public static final int DEFAULT_WIDTH = 1000;

  /** Default image size in pixels. */
  public static final int DEFAULT_HEIGHT = 600;

  /** A rate counts as constant when every event is within this relative distance of it. */
  private static final double CONSTANT_RATE_TOLERANCE = 0.01;

  private static final Color[] RUN_COLORS = {
    new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd),
    new Color(0xff7f0e), new Color(0x8c564b),
  };

  private LossPlot() {}

  /** Tokens per optimizer step of one run, and whether it is the same at every logged step. */
  private record TokenRate(String run, double tokensPerStep, boolean constant) {}

  /**
   * Renders the loss curves of {@code events}.
   *
   * @throws IllegalArgumentException when no event has a finite loss, or the size is not positive
   */
  public static BufferedImage render(List<MetricsEvent> events, int width, int height) {
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException("plot size must be positive, got " + width + "x" + height);
    }
    Map<String, Map<MetricsEvent.Split, List<MetricsEvent>>> byRun = new LinkedHashMap<>();
    for (MetricsEvent event : events) {
      if (event.loss() != null && Double.isFinite(event.loss())) {
        byRun.computeIfAbsent(event.run(), run -> new LinkedHashMap<>())
            .computeIfAbsent(event.split(), split -> new ArrayList<>())
            .add(event);
      }
    }
    if (byRun.isEmpty()) {
      throw new IllegalArgumentException("no loss values to plot (" + events.size() + " metrics events)");
    }

    XYChart chart = new XYChartBuilder().width(width).height(height)
        .title("Training and validation loss").yAxisTitle("loss (cross-entropy, nats)").build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE)
        .setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setXAxisDecimalPattern("#,##0");

    int runIndex = 0;
    for (Map.Entry<String, Map<MetricsEvent.Split, List<MetricsEvent>>> run : byRun.entrySet()) {
      Color color = RUN_COLORS[runIndex++ % RUN_COLORS.length];
      for (Map.Entry<MetricsEvent.Split, List<MetricsEvent>> split : run.getValue().entrySet()) {
        List<MetricsEvent> points = new ArrayList<>(split.getValue());
        points.sort(Comparator.comparingLong(MetricsEvent::step));
        double[] steps = points.stream().mapToDouble(MetricsEvent::step).toArray();
        double[] losses = points.stream().mapToDouble(MetricsEvent::loss).toArray();
        XYSeries series = chart.addSeries(run.getKey() + " " + split.getKey().jsonName(), steps, losses);
        series.setLineColor(color);
        series.setMarkerColor(color);
        if (split.getKey() == MetricsEvent.Split.TRAIN) {
          series.setMarker(SeriesMarkers.NONE);
          series.setLineStyle(new BasicStroke(1.5f));
        } else {
          series.setMarker(SeriesMarkers.CIRCLE);
          series.setLineStyle(SeriesLines.DASH_DASH);
        }
      }
    }
    describeTokenScale(chart, tokenRates(events));
    return BitmapEncoder.getBufferedImage(chart);
  }

  /** Renders {@code events} and writes the PNG to {@code png} atomically. */
  public static void write(Path png, List<MetricsEvent> events, int width, int height) throws IOException {
    writePng(png, render(events, width, height));
  }

  /** Writes {@code image} as a PNG to {@code png} atomically. */
  static void writePng(Path png, BufferedImage image) throws IOException {
    AtomicFiles.write(png, channel -> {
      OutputStream out = Channels.newOutputStream(channel);
      if (!ImageIO.write(image, "png", out)) {
        throw new IOException("no PNG encoder available in this JVM");
      }
      out.flush();
    });
  }

  /**
   * Plots the events of one or several metrics.jsonl files (see {@link MetricsLog#read}), e.g. a
   * BERT run's and a GPT-2 run's, into one PNG.
   */
  public static void writeFromMetrics(Path png, List<Path> metricsFiles, int width, int height)
      throws IOException {
    List<MetricsEvent> events = new ArrayList<>();
    for (Path file : metricsFiles) {
      events.addAll(MetricsLog.read(file));
    }
    write(png, events, width, height);
  }

  private static void describeTokenScale(XYChart chart, List<TokenRate> rates) {
    if (rates.isEmpty()) {
      chart.setXAxisTitle("optimizer step");
      return;
    }
    double common = rates.get(0).tokensPerStep();
    boolean shared = rates.stream().allMatch(r -> r.constant()
        && Math.abs(r.tokensPerStep() - common) <= CONSTANT_RATE_TOLERANCE * common);
    if (shared) {
      chart.setXAxisTitle("optimizer step (tokens seen)   -   " + compact(common) + " tokens per step");
      chart.getStyler().setxAxisTickLabelsFormattingFunction(
          step -> String.format(Locale.ROOT, "%,d (%s)", Math.round(step), compact(step * common)));
      chart.getStyler().setXAxisTickMarkSpacingHint(130);
    } else {
      chart.setXAxisTitle("optimizer step   -   tokens seen per step: " + rates.stream()
          .map(r -> r.run() + " " + (r.constant() ? "" : "≈") + compact(r.tokensPerStep()))
          .collect(Collectors.joining(", ")));
    }
  }

  /** Each run's tokens per step from its train events that carry tokens_seen. */
  private static List<TokenRate> tokenRates(List<MetricsEvent> events) {
    Map<String, List<MetricsEvent>> counted = new LinkedHashMap<>();
    for (MetricsEvent event : events) {
      if (event.split() == MetricsEvent.Split.TRAIN && event.tokensSeen() != null && event.step() > 0) {
        counted.computeIfAbsent(event.run(), run -> new ArrayList<>()).add(event);
      }
    }
    List<TokenRate> rates = new ArrayList<>();
    for (Map.Entry<String, List<MetricsEvent>> run : counted.entrySet()) {
      MetricsEvent latest = run.getValue().stream().max(Comparator.comparingLong(MetricsEvent::step)).orElseThrow();
      double rate = (double) latest.tokensSeen() / latest.step();
      boolean constant = run.getValue().stream().allMatch(e ->
          Math.abs(e.tokensSeen() - rate * e.step()) <= CONSTANT_RATE_TOLERANCE * rate * e.step());
      rates.add(new TokenRate(run.getKey(), rate, constant));
    }
    return rates;
  }

  /** 950, 16.4k, 32.8M, 1.2B. */
  static String compact(double value) {
    double magnitude = Math.abs(value);
    if (magnitude >= 1e9) {
      return String.format(Locale.ROOT, "%.1fB", value / 1e9);
    }
    if (magnitude >= 1e6) {
      return String.format(Locale.ROOT, "%.1fM", value / 1e6);
    }
    if (magnitude >= 1e3) {
      return String.format(Locale.ROOT, "%.1fk", value / 1e3);
    }
    return String.format(Locale.ROOT, "%.0f", value);
  }
}
