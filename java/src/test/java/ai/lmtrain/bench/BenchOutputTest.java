package ai.lmtrain.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchOutputTest {

  private static final BenchReport REPORT = new BenchReport("demo", "a title", "our code", "n/a: no torch",
      List.of("dropout 0"), List.of(
          new BenchRow("gemm 4x4x4 NN", Unit.GFLOP_PER_S, 50, 100),
          new BenchRow("train tiny", Unit.MS_PER_STEP, 50, 100),
          new BenchRow("missing peer", Unit.TOKENS_PER_S, 12345.6, Double.NaN)));

  @Test
  void ratioAboveOneMeansOursIsFasterForThroughputsAndTimes() {
    assertEquals(0.5, REPORT.rows().get(0).ratio(), 1e-12);
    assertEquals(2.0, REPORT.rows().get(1).ratio(), 1e-12);
    assertTrue(Double.isNaN(REPORT.rows().get(2).ratio()));
    assertTrue(Double.isNaN(new BenchRow("x", Unit.GB_PER_S, Double.NaN, 3).ratio()));
  }

  @Test
  void unitsTurnSecondsIntoFigures() {
    assertEquals(2.0, Unit.GFLOP_PER_S.of(4e9, 2), 1e-12);
    assertEquals(3.0, Unit.TFLOP_PER_S.of(6e12, 2), 1e-12);
    assertEquals(250.0, Unit.MS_PER_STEP.of(999, 0.25), 1e-12);
    assertEquals(50.0, Unit.PERCENT_OF_PEAK.of(1, 2), 1e-12);
    assertTrue(Double.isNaN(Unit.MB_PER_S.of(1, Double.NaN)));
  }

  @Test
  void tablePrintsEveryRowWithMissingFiguresAsNa() {
    StringWriter text = new StringWriter();
    BenchOutput.printTable(new PrintWriter(text), REPORT);
    String[] lines = text.toString().split("\n");
    assertEquals("demo: a title", lines[0]);
    assertEquals("  peer: n/a: no torch", lines[2]);
    assertTrue(lines[4].matches("case\\s+unit\\s+ours\\s+peer\\s+ratio"), lines[4]);
    assertTrue(lines[5].matches("gemm 4x4x4 NN\\s+GFLOP/s\\s+50\\.0\\s+100\\s+0\\.50"), lines[5]);
    assertTrue(lines[6].matches("train tiny\\s+ms/step\\s+50\\.0\\s+100\\s+2\\.00"), lines[6]);
    assertTrue(lines[7].matches("missing peer\\s+tokens/s\\s+12346\\s+n/a\\s+n/a"), lines[7]);
    assertEquals("  note: dropout 0", lines[8]);
    assertEquals(9, lines.length);
  }

  @Test
  void jsonHasOneCasePerRowAndNullForMissingFigures() {
    JsonNode json = BenchOutput.toJson(REPORT);
    assertEquals("demo", json.get("suite").asText());
    assertEquals("n/a: no torch", json.get("peer").asText());
    assertEquals("dropout 0", json.get("notes").get(0).asText());
    JsonNode cases = json.get("cases");
    assertEquals(3, cases.size());
    assertEquals("ms/step", cases.get(1).get("unit").asText());
    assertEquals(2.0, cases.get(1).get("ratio").asDouble(), 1e-12);
    assertTrue(cases.get(2).get("peer").isNull());
    assertTrue(cases.get(2).get("ratio").isNull());
  }

  @Test
  void figuresKeepAtLeastThreeSignificantDigits() {
    assertEquals("0.123", BenchOutput.figure(0.12345));
    assertEquals("1.23", BenchOutput.figure(1.2345));
    assertEquals("12.3", BenchOutput.figure(12.345));
    assertEquals("123", BenchOutput.figure(123.45));
    assertEquals("n/a", BenchOutput.figure(Double.POSITIVE_INFINITY));
  }

  @Test
  void medianOfOddAndEvenCounts() {
    assertEquals(2.0, Timing.median(new double[] {3, 1, 2}), 0);
    assertEquals(2.5, Timing.median(new double[] {4, 1, 3, 2}), 0);
  }
}
