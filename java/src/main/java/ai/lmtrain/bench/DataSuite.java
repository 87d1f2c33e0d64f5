package ai.lmtrain.bench;

import ai.lmtrain.data.TextSource;
import ai.lmtrain.data.corpus.CorpusOptions;
import ai.lmtrain.data.shards.PrepareData;
import ai.lmtrain.tensor.Device;
import ai.lmtrain.tokenizers.Tokenizers;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code bench data}: {@code prepare-data} throughput — read a text file, tokenize it with GPT-2's
 * BPE, write uint16 shards — on 1 thread and on all threads, in MB/s of input and tokens/s, and its
 * cost in CPU milliseconds (all threads of the process) per MB of input, which other load on a shared
 * machine disturbs far less than wall time; against jtokkit's r50k_base (the same vocabulary)
 * encoding the same lines on the same number of threads, in the same run. The peer only tokenizes
 * (its text is already in memory); ours also reads, decodes, batches, orders and writes.
 */
public final class DataSuite implements BenchSuite {
  /** Copies of tinyshakespeare in the standard input (about 1.1 MB each). */
  static final int COPIES = 32;

  private final int copies;

  /** The standard suite: tinyshakespeare x {@value #COPIES}. */
  public DataSuite() {
    this(COPIES);
  }

  /** A suite over {@code copies} copies of tinyshakespeare. */
  DataSuite(int copies) {
    this.copies = copies;
  }

  @Override
  public String name() {
    return "data";
  }

  @Override
  public String description() {
    return "prepare-data MB/s, tokens/s and CPU ms/MB (GPT-2 BPE), 1 thread and all threads, vs jtokkit r50k_base";
  }

  @Override
  public List<Device.Kind> deviceKinds() {
    return List.of(Device.Kind.CPU);
  }

  @Override
  public BenchReport run(BenchContext ctx) throws IOException, InterruptedException {
    int all = ctx.threads() > 0 ? ctx.threads() : Runtime.getRuntime().availableProcessors();
    String text = TextSource.bundledText("tinyshakespeare.txt").repeat(copies);
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    List<String> lines = text.lines().filter(l -> !l.isBlank()).toList();
    Path dir = Files.createTempDirectory("lmtrain-bench-data");
    try {
      Path input = dir.resolve("tinyshakespeare-x" + copies + ".txt");
      Files.write(input, bytes);
      var tokenizer = Tokenizers.gpt2();
      Encoding peer = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
      List<BenchRow> rows = new ArrayList<>();
      for (int threads : all > 1 ? new int[] {1, all} : new int[] {1}) {
        double[] ours = new double[ctx.repetitions()];
        double[] peers = new double[ctx.repetitions()];
        double[] oursCpu = new double[ctx.repetitions()];
        double[] peersCpu = new double[ctx.repetitions()];
        long tokens = 0;
        long peerTokens = 0;
        for (int r = -Math.max(ctx.warmup(), 1); r < ctx.repetitions(); r++) {
          Path out = dir.resolve("out");
          double cpu0 = ProcessCpu.seconds();
          PrepareData.Summary s = PrepareData.run(tokenizer, new PrepareData.Options(List.of(input), List.of(),
              CorpusOptions.defaults(), 0, 100_000_000, 0, threads, 1, out), (a, b, c, d) -> { });
          double cpu1 = ProcessCpu.seconds();
          deleteTree(out);
          double cpu2 = ProcessCpu.seconds();
          long t0 = System.nanoTime();
          long n = encodeLines(peer, lines, threads);
          double peerSeconds = (System.nanoTime() - t0) / 1e9;
          double cpu3 = ProcessCpu.seconds();
          if (r >= 0) {
            ours[r] = s.seconds();
            peers[r] = peerSeconds;
            oursCpu[r] = cpu1 - cpu0;
            peersCpu[r] = cpu3 - cpu2;
            tokens = s.info().tokens("train");
            peerTokens = n;
          }
        }
        double oursS = Timing.median(ours);
        double peerS = Timing.median(peers);
        String label = "prepare-data, " + threads + (threads == 1 ? " thread" : " threads");
        rows.add(new BenchRow(label, Unit.MB_PER_S, Unit.MB_PER_S.of(bytes.length, oursS),
            Unit.MB_PER_S.of(bytes.length, peerS)));
        rows.add(new BenchRow(label, Unit.TOKENS_PER_S, Unit.TOKENS_PER_S.of(tokens, oursS),
            Unit.TOKENS_PER_S.of(peerTokens, peerS)));
        BenchRow cpu = new BenchRow(label, Unit.CPU_MS_PER_MB, Unit.CPU_MS_PER_MB.of(bytes.length, Timing.median(oursCpu)),
            Unit.CPU_MS_PER_MB.of(bytes.length, Timing.median(peersCpu)));
        rows.add(cpu);
        ctx.log(String.format("%s: %.1f MB/s, %.1f CPU ms/MB (jtokkit %.1f MB/s, %.1f CPU ms/MB), load average %.2f",
            label, bytes.length / 1e6 / oursS, cpu.ours(), bytes.length / 1e6 / peerS, cpu.peer(),
            ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()));
      }
      return new BenchReport(name(), "prepare-data of tinyshakespeare x " + copies + " (" + bytes.length
          + " bytes, one document per line, uint16 shards) with GPT-2's BPE; median of " + ctx.repetitions()
          + " timed runs after " + Math.max(ctx.warmup(), 1) + " untimed",
          "lmtrain prepare-data (read, tokenize, write shards)",
          "jtokkit 1.1.0 r50k_base encodeOrdinary of the same lines, in memory, same thread count",
          List.of("ours counts one <|endoftext|> per document; the peer's tokens are the text's alone"), rows);
    } finally {
      deleteTree(dir);
    }
  }

  private static void deleteTree(Path root) throws IOException {
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** jtokkit over the lines on {@code threads} threads (contiguous slices); returns the token count. */
  private static long encodeLines(Encoding peer, List<String> lines, int threads) throws InterruptedException {
    if (threads == 1) {
      long n = 0;
      for (String l : lines) {
        n += peer.encodeOrdinary(l).size();
      }
      return n;
    }
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Long>> parts = new ArrayList<>();
      int per = (lines.size() + threads - 1) / threads;
      for (int t = 0; t < threads; t++) {
        List<String> slice = lines.subList(Math.min(lines.size(), t * per), Math.min(lines.size(), (t + 1) * per));
        parts.add(pool.submit(() -> {
          long n = 0;
          for (String l : slice) {
            n += peer.encodeOrdinary(l).size();
          }
          return n;
        }));
      }
      long n = 0;
      for (Future<Long> f : parts) {
        n += f.get();
      }
      return n;
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    } finally {
      pool.shutdown();
    }
  }
}
