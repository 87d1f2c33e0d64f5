package ai.lmtrain.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.lmtrain.models.Gpt2Config;
import ai.lmtrain.models.Gpt2LMHeadModel;
import ai.lmtrain.models.TinyModels;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.CpuBackend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.Device;
import ai.lmtrain.train.Precision;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The suites' plumbing on the CPU at tiny sizes: ours is measured through the real code paths,
 * every case reaches the peer spec and the table, and a missing peer gives n/a. (The GPU suites'
 * kernels and models run here on the CPU backend; on a GPU host the CLI runs them on CUDA.)
 */
class SuitesTest {
  private static final PeerScripts NO_PYTHON = new PeerScripts("/nonexistent/python", PeerScripts.locate());
  private static final GpuPeaks PEAKS = new GpuPeaks("test GPU", 1e12, 1e9);

  private static BenchContext context(PeerScripts peers) {
    return new BenchContext(Device.CPU, 1, 2, 0, peers, new PrintWriter(new StringWriter()));
  }

  private static CpuSuite tinyCpuSuite() {
    return new CpuSuite(List.of(GemmCase.of(33, 17, 31, false, true), GemmCase.of(8, 32, 9, true, false)),
        List.of(new TrainCase("train bert tiny", TinyModels.bertConfig(), 2, 7),
            new TrainCase("train gpt2 tiny", TinyModels.gpt2Config(), 2, 12)),
        List.of(new TrainCase("train gpt2 tiny alone", TinyModels.gpt2Config(), 1, 12)));
  }

  /** A peer outcome twice as slow as ours on every case. */
  private static PeerScripts.Outcome twiceAsSlow(Map<String, Double> oursSeconds) {
    Map<String, Double> peer = new HashMap<>();
    oursSeconds.forEach((k, v) -> peer.put(k, 2 * v));
    return new PeerScripts.Outcome("stand-in", peer, null);
  }

  @Test
  void cpuSuiteMeasuresOursAndShowsAMissingPeerAsNa() {
    BenchReport r = tinyCpuSuite().run(context(NO_PYTHON));
    assertEquals(6, r.rows().size());
    assertTrue(r.peer().startsWith("n/a: cannot run /nonexistent/python"), r.peer());
    for (BenchRow row : r.rows()) {
      assertTrue(row.ours() > 0 && Double.isFinite(row.ours()), row.toString());
      assertTrue(Double.isNaN(row.peer()) && Double.isNaN(row.ratio()), row.toString());
    }
    assertEquals(List.of(Unit.GFLOP_PER_S, Unit.GFLOP_PER_S, Unit.MS_PER_STEP, Unit.MS_PER_STEP, Unit.MS_PER_STEP,
        Unit.MIB), r.rows().stream().map(BenchRow::unit).toList());
    BenchRow peak = r.rows().get(5);
    assertEquals("train gpt2 tiny alone peak RSS", peak.name());
    // a JVM that trained a tiny model: more than its heap floor, far less than this machine's memory
    assertTrue(peak.ours() > 20 && peak.ours() < 4096, peak.toString());
  }

  @Test
  void trainCaseRoundTripsThroughItsJson() throws Exception {
    for (TrainCase c : List.of(new TrainCase("b", TinyModels.bertConfig(), 3, 7),
        new TrainCase("g", TinyModels.gpt2Config(), 2, 12))) {
      JsonNode json = c.toJson(1, 2);
      assertEquals(c, TrainCase.fromJson(json));
      assertEquals(TinyModels.VOCAB, json.get("parameters").get(0).get("shape").get(0).asInt(),
          "the peer gets checkpoint shapes (the real vocabulary)");
    }
  }

  @Test
  void cpuSuiteRunsTheTorchPeerWhenOneIsInstalled() {
    String python = Stream.of(System.getenv(PeerScripts.PYTHON_ENV), "python3", "/usr/bin/python3")
        .filter(p -> p != null && importsTorch(p)).findFirst().orElse(null);
    assumeTrue(python != null, "no Python with torch");
    BenchReport r = tinyCpuSuite().run(context(new PeerScripts(python, PeerScripts.locate())));
    assertTrue(r.peer().startsWith("PyTorch "), r.peer());
    for (BenchRow row : r.rows()) {
      assertTrue(row.peer() > 0 && row.ratio() > 0, row.toString());
    }
  }

  private static boolean importsTorch(String python) {
    try {
      return new ProcessBuilder(python, "-c", "import torch").start().waitFor() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  @Test
  void kernelsSuiteCasesMeasurementsAndPeerSpecAgree() {
    KernelsSuite suite = new KernelsSuite(TinyModels.gpt2Config(), 2, 12);
    try (Backend cpu = new CpuBackend();
        Gpt2LMHeadModel gpt2 = new Gpt2LMHeadModel(TinyModels.gpt2Config(), cpu, DType.BF16)) {
      gpt2.initialize(1);
      long parameters = gpt2.parameters().table().parameterCount();
      List<KernelsSuite.KernelCase> cases = suite.cases(parameters);
      Set<String> names = new HashSet<>(cases.stream().map(KernelsSuite.KernelCase::name).toList());
      assertEquals(15 + 2 + 1 + 1 + 2, names.size());

      Map<String, Double> ours = suite.measureOurs(cpu, gpt2, 0, 1, context(NO_PYTHON));
      assertEquals(names, ours.keySet());
      ours.values().forEach(s -> assertTrue(s > 0, ours.toString()));

      JsonNode spec = suite.peerSpec(gpt2.parameters().table(), 1, 2);
      Set<String> specNames = new HashSet<>();
      spec.get("gemm").forEach(g -> specNames.add(g.get("case").asText()));
      for (String group : new String[] {"attention", "layer_norm"}) {
        specNames.add(spec.get(group).get("case_forward").asText());
        specNames.add(spec.get(group).get("case_backward").asText());
      }
      specNames.add(spec.get("cross_entropy").get("case").asText());
      specNames.add(spec.get("adamw").get("case").asText());
      assertEquals(names, specNames);
      assertEquals(gpt2.parameters().table().entries().size(), spec.get("adamw").get("shapes").size());
      JsonNode dW = spec.get("gemm").get(2);
      assertEquals("gemm bwd dW 16->48", dW.get("case").asText());
      assertEquals(16, dW.get("m").asLong());
      assertEquals(24, dW.get("k").asLong());
      assertTrue(dW.get("trans_a").asBoolean());

      BenchReport r = suite.report(context(NO_PYTHON), PEAKS, cases, ours, twiceAsSlow(ours));
      assertEquals(cases.size() + 4, r.rows().size(), "the 4 bandwidth-bound cases add a % of peak row");
      for (BenchRow row : r.rows()) {
        assertEquals(2.0, row.ratio(), 1e-9, row.toString());
      }
      BenchRow adamw = r.rows().stream().filter(row -> row.name().startsWith("adamw")).findFirst().orElseThrow();
      BenchRow adamwPeak = r.rows().get(r.rows().indexOf(adamw) + 1);
      assertEquals(Unit.PERCENT_OF_PEAK, adamwPeak.unit());
      assertEquals(adamw.ours() * 1e9 / PEAKS.bytesPerSecond() * 100, adamwPeak.ours(), 1e-9 * adamwPeak.ours());
    }
  }

  @Test
  void trainSuiteRowsTokensMfuAndCompiledPeer() {
    TrainSuite suite = new TrainSuite(List.of(
        new TrainSuite.Case(new TrainCase("gpt2 tiny", TinyModels.gpt2Config(), 2, 12), Unit.TOKENS_PER_S, true, true),
        new TrainSuite.Case(new TrainCase("bert tiny", TinyModels.bertConfig(), 2, 7), Unit.SEQUENCES_PER_S, false,
            false)));
    try (Backend cpu = new CpuBackend()) {
      TrainSuite.Ours ours = suite.measureOurs(cpu, Precision.BF16, 1, 2, context(NO_PYTHON));
      JsonNode modes = ours.peerSpec().get("train").get(0).get("modes");
      assertEquals("gpt2 tiny eager", modes.get(0).get("key").asText());
      assertTrue(modes.get(1).get("compile").asBoolean());
      assertEquals(1, ours.peerSpec().get("train").get(1).get("modes").size());

      Map<String, Double> peerSeconds = new HashMap<>();
      peerSeconds.put("gpt2 tiny eager", 2 * ours.stepSeconds().get("gpt2 tiny"));
      peerSeconds.put("bert tiny eager", 2 * ours.stepSeconds().get("bert tiny"));
      List<BenchRow> rows = suite.rows(PEAKS, ours, new PeerScripts.Outcome("stand-in", peerSeconds, null));
      assertEquals(List.of("gpt2 tiny (peer eager)", "gpt2 tiny (peer eager) MFU", "gpt2 tiny (peer compiled)",
          "gpt2 tiny (peer compiled) MFU", "bert tiny (peer eager)"), rows.stream().map(BenchRow::name).toList());
      assertEquals(2.0, rows.get(0).ratio(), 1e-9);
      assertEquals(2.0, rows.get(1).ratio(), 1e-9);
      assertTrue(Double.isNaN(rows.get(2).peer()), "the compiled peer did not run");
      assertEquals(2.0, rows.get(4).ratio(), 1e-9);
      assertEquals(24 / ours.stepSeconds().get("gpt2 tiny"), rows.get(0).ours(), 1e-6 * rows.get(0).ours());
      double mfu = 100 * ours.flopsPerToken().get("gpt2 tiny") * 24 / ours.stepSeconds().get("gpt2 tiny") / 1e12;
      assertEquals(mfu, rows.get(1).ours(), 1e-9 * mfu);
    }
  }

  @Test
  void gpt2SmallFlopsPerTokenFollowSixNPlusSixLct() {
    TrainCase c = new TrainCase("gpt2", Gpt2Config.gpt2Small(), 1, 1024);
    try (Backend cpu = new CpuBackend(); Gpt2LMHeadModel m = new Gpt2LMHeadModel(Gpt2Config.gpt2Small(), cpu,
        DType.F32)) {
      long n = 124_439_808L - 1024 * 768;
      assertEquals(6.0 * n + 6.0 * 12 * 768 * 1024, c.flopsPerToken(m), 1);
    }
  }

  @Test
  void denseBf16PeaksOfKnownDevices() {
    assertEquals(989.4, GpuPeaks.denseBf16Tflops("NVIDIA H100 80GB HBM3"), 0);
    assertEquals(756.5, GpuPeaks.denseBf16Tflops("NVIDIA H100 PCIe"), 0);
    assertEquals(989.4, GpuPeaks.denseBf16Tflops("NVIDIA H200"), 0);
    assertEquals(312, GpuPeaks.denseBf16Tflops("NVIDIA A100-SXM4-80GB"), 0);
    assertTrue(Double.isNaN(GpuPeaks.denseBf16Tflops("Some Future GPU")));
  }
}
