package ai.lmtrain.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.data.TextSource;
import ai.lmtrain.tokenizers.TokenizerTrainer;
import ai.lmtrain.tokenizers.TrainerOptions;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs after {@code package}, on the shaded jar in fresh JVMs: a generated corpus of more than 2 GB
 * is prepared with a 256 MB heap ({@code -Xmx256m}) into uint32 shards, the first of them over 2 GiB
 * (several memory mappings), and a GPT-2 then trains from them while this test samples the child's
 * {@code /proc/PID/status}: its anonymous memory (heap, native, stacks; {@code RssAnon}) must stay
 * far below the size of the token data, which it would exceed if the corpus were materialised. File
 * pages of the mapped shards ({@code RssFile}) are page cache the kernel reclaims, reported only.
 * The tokenizer is a 512-token BPE trained here: with GPT-2's 50,257 tokens the logits of one batch
 * alone would take hundreds of MB and hide what this test measures. Skips, saying why, when the disk
 * has less than 7 GB free.
 */
class LargeCorpusIT {
  private static final long CORPUS_BYTES = 2_100_000_000L;
  private static final long NEEDED_DISK = 7_000_000_000L;
  private static final long RSS_ANON_LIMIT_KB = 700 * 1024;

  @TempDir Path tmp;

  private record Run(int exit, String output, long maxRssAnonKb, long maxVmRssKb, long maxRssFileKb, double seconds) {}

  @Test
  void twoGigabytesPrepareIn256MbAndTrainWithFlatMemory() throws Exception {
    long free = Files.getFileStore(tmp).getUsableSpace();
    if (free < NEEDED_DISK) {
      String reason = "LargeCorpusIT skipped: " + tmp + " has " + free / 1_000_000 + " MB free, the test needs "
          + NEEDED_DISK / 1_000_000 + " MB (a " + CORPUS_BYTES / 1_000_000 + " MB corpus and its shards)";
      System.out.println(reason);
      Assumptions.assumeTrue(false, reason);
    }
    Path jar = Path.of(System.getProperty("lmtrain.jar"));
    Path corpus = tmp.resolve("corpus.txt");
    long bytes = generate(corpus);
    Path tokenizer = tmp.resolve("bpe512");
    TokenizerTrainer.trainByteLevelBpe(List.of(corpusSample(tmp)), TrainerOptions.byteLevelBpe(512)).save(tokenizer);
    Path shards = tmp.resolve("shards");
    Run prepare = run(List.of("-Xmx256m", "-jar", jar.toString(), "prepare-data", "--tokenizer", tokenizer.toString(),
        "--input", corpus.toString(), "--output", shards.toString(), "--token-dtype", "uint32", "--shard-tokens", "600000000",
        "--validation-fraction", "0.00002", "--threads", "2"), 1800);
    System.out.printf("LargeCorpusIT prepare-data: %,d bytes in %.0f s with -Xmx256m; max RssAnon %,d kB, VmRSS %,d kB%n"
        + "%s%n", bytes, prepare.seconds(), prepare.maxRssAnonKb(), prepare.maxVmRssKb(), prepare.output().strip());
    assertEquals(0, prepare.exit(), prepare.output());
    long firstShard = Files.size(shards.resolve("train_000001.bin"));
    assertTrue(firstShard > (2L << 30), "the first shard should exceed 2 GiB, it has " + firstShard + " bytes");
    Files.delete(corpus);

    long tokenBytes;
    try (var files = Files.list(shards)) {
      tokenBytes = files.filter(p -> p.toString().endsWith(".bin")).mapToLong(p -> p.toFile().length()).sum();
    }
    Path config = tmp.resolve("config.json");
    Files.writeString(config, "{\"n_layer\": 1, \"n_embd\": 64, \"n_head\": 2, \"n_positions\": 64, \"max_steps\": 30,"
        + " \"per_device_train_batch_size\": 8, \"per_device_eval_batch_size\": 64, \"logging_steps\": 20}");
    Run train = run(List.of("-Xmx3g", "-jar", jar.toString(), "train", "--model", "gpt2", "--data", shards.toString(),
        "--tokenizer", tokenizer.toString(), "--config", config.toString(), "--context-length", "64", "--output",
        tmp.resolve("model").toString()), 1200);
    System.out.printf("LargeCorpusIT train --data: %,d bytes of shards, %.0f s with -Xmx3g; max RssAnon %,d kB, max"
        + " VmRSS %,d kB (RssFile %,d kB of mapped shard pages)%n%s%n", tokenBytes, train.seconds(), train.maxRssAnonKb(),
        train.maxVmRssKb(), train.maxRssFileKb(), train.output().strip());
    assertEquals(0, train.exit(), train.output());
    assertTrue(train.maxRssAnonKb() > 0, "no RSS sample was taken");
    assertTrue(train.maxRssAnonKb() < RSS_ANON_LIMIT_KB, "training's anonymous memory reached " + train.maxRssAnonKb()
        + " kB; the shards hold " + tokenBytes / 1024 + " kB of tokens");
    assertTrue(RSS_ANON_LIMIT_KB < tokenBytes / 1024 / 3, "the bound must be far below the token data");
  }

  /** tinyshakespeare, to train the tokenizer on. */
  private static Path corpusSample(Path dir) throws IOException {
    Path sample = dir.resolve("sample.txt");
    Files.writeString(sample, TextSource.bundledText("tinyshakespeare.txt"));
    return sample;
  }

  /** Lines of tinyshakespeare with a line number modulo 1000 before each, until the file holds {@link #CORPUS_BYTES}. */
  private static long generate(Path file) throws IOException {
    List<String> lines = TextSource.bundledLines("tinyshakespeare.txt");
    long written = 0;
    try (BufferedWriter w = new BufferedWriter(Files.newBufferedWriter(file, StandardCharsets.UTF_8), 1 << 20)) {
      for (long n = 0; written < CORPUS_BYTES; n++) {
        String line = (n % 1000) + " " + lines.get((int) (n % lines.size())) + "\n";
        w.write(line);
        written += line.getBytes(StandardCharsets.UTF_8).length;
      }
    }
    return written;
  }

  /** Runs a JVM, sampling its /proc status every 50 ms until it exits. */
  private static Run run(List<String> args, int timeoutSeconds) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(args);
    long t0 = System.nanoTime();
    Path log = Files.createTempFile("lmtrain-it", ".log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    Path status = Path.of("/proc", Long.toString(p.pid()), "status");
    long anon = 0;
    long rss = 0;
    long file = 0;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    while (p.isAlive() && System.nanoTime() < deadline) {
      try {
        for (String line : Files.readAllLines(status)) {
          if (line.startsWith("RssAnon:")) {
            anon = Math.max(anon, kb(line));
          } else if (line.startsWith("VmRSS:")) {
            rss = Math.max(rss, kb(line));
          } else if (line.startsWith("RssFile:")) {
            file = Math.max(file, kb(line));
          }
        }
      } catch (IOException exited) {
        break;
      }
      p.waitFor(50, TimeUnit.MILLISECONDS);
    }
    if (p.isAlive()) {
      p.destroyForcibly();
    }
    p.waitFor();
    String output = Files.readString(log);
    Files.delete(log);
    List<String> tail = output.lines().toList();
    String shortOutput = String.join("\n", tail.subList(Math.max(0, tail.size() - 12), tail.size()));
    return new Run(p.exitValue(), shortOutput, anon, rss, file, (System.nanoTime() - t0) / 1e9);
  }

  private static long kb(String statusLine) {
    return Long.parseLong(statusLine.replaceAll("[^0-9]", ""));
  }
}
