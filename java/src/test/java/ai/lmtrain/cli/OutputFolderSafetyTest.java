package ai.lmtrain.cli;

import static ai.lmtrain.cli.CliRunner.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.cli.CliRunner.Outcome;
import ai.lmtrain.data.TextSource;
import ai.lmtrain.train.MetricsEvent;
import ai.lmtrain.train.MetricsLog;
import ai.lmtrain.train.RunFolder;
import ai.lmtrain.io.SafeTensors;
import ai.lmtrain.io.TensorData;
import ai.lmtrain.tokenizers.Tokenizers;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train}, {@code lab} and {@code finetune --output} never lose or overwrite a user's files: a
 * foreign folder is refused, an existing run needs --resume or --overwrite, --overwrite replaces a run
 * whole (and keeps it when the new run fails), symbolic links are not followed, a run that fails
 * before its first step leaves nothing behind, and a second command on a folder in use fails at once
 * (in this JVM and from another process). {@code train-tokenizer --output} replaces only tokenizer
 * files, and only with --overwrite.
 */
class OutputFolderSafetyTest {
  @TempDir static Path shared;
  private static Path corpus;
  private static Path config;
  private static Path tokenizer;
  private static Path base;
  private static Path topics;
  private static Path finetuneConfig;

  @BeforeAll
  static void files() throws Exception {
    corpus = shared.resolve("corpus.txt");
    Files.write(corpus, TextSource.bundledLines("toy_corpus.txt"));
    config = shared.resolve("config.json");
    Files.writeString(config, "{\"n_layer\": 1, \"n_embd\": 32, \"n_head\": 2, \"n_positions\": 32,"
        + " \"num_train_epochs\": 1, \"per_device_train_batch_size\": 4, \"logging_steps\": 5}");
    tokenizer = shared.resolve("tokenizer");
    Outcome tok = run("train-tokenizer", "--type", "bpe", "--corpus", corpus.toString(), "--vocab-size", "300",
        "--output", tokenizer.toString());
    assertEquals(0, tok.exit(), tok.err());
    base = shared.resolve("base");
    Outcome trained = train(base);
    assertEquals(0, trained.exit(), trained.err());
    topics = shared.resolve("topics.csv");
    Files.copy(Path.of(OutputFolderSafetyTest.class.getResource("/ai/lmtrain/data/toy_topics_train.csv").toURI()),
        topics);
    finetuneConfig = Files.writeString(shared.resolve("finetune.json"), "{\"max_steps\": 3,"
        + " \"per_device_train_batch_size\": 8, \"logging_steps\": 1}");
  }

  private static Outcome train(Path out, String... extra) {
    List<String> args = new ArrayList<>(List.of("train", "--model", "gpt2", "--corpus", corpus.toString(),
        "--train-tokenizer", "--vocab-size", "300", "--config", config.toString(), "--output", out.toString(),
        "--context-length", "24"));
    args.addAll(List.of(extra));
    return run(args.toArray(String[]::new));
  }

  private static Outcome finetune(Path out, String... extra) {
    List<String> args = new ArrayList<>(List.of("finetune", "--model", base.toString(), "--train", topics.toString(),
        "--text-column", "text", "--label-column", "label", "--config", finetuneConfig.toString(), "--max-length",
        "16", "--output", out.toString()));
    args.addAll(List.of(extra));
    return run(args.toArray(String[]::new));
  }

  private static List<Path> listing(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.sorted().toList();
    }
  }

  private static List<Path> hiddenSiblings(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir.getParent())) {
      return files.filter(p -> p.getFileName().toString().startsWith("." + dir.getFileName())).toList();
    }
  }

  @Test
  void aForeignFolderIsNeverWrittenInto(@TempDir Path tmp) throws IOException {
    Path mine = Files.createDirectories(tmp.resolve("mine"));
    Files.writeString(mine.resolve("config.json"), "my own config");
    Files.writeString(mine.resolve("metrics.jsonl"), "{\"my\": \"line\"}\n");
    List<Path> before = listing(mine);
    for (String[] flags : new String[][] {{}, {"--overwrite"}, {"--resume"}}) {
      Outcome refused = flags.length == 1 && flags[0].equals("--resume")
          ? run("train", "--model", "gpt2", "--corpus", corpus.toString(), "--output", mine.toString(), "--resume")
          : train(mine, flags);
      assertEquals(1, refused.exit(), refused.err());
      assertTrue(refused.err().startsWith("error: --output " + mine + " is a non-empty folder that is not an lmtrain"
          + " run"), refused.err());
    }
    assertEquals(before, listing(mine));
    assertEquals("my own config", Files.readString(mine.resolve("config.json")));
    assertEquals("{\"my\": \"line\"}\n", Files.readString(mine.resolve("metrics.jsonl")));

    Path file = Files.writeString(tmp.resolve("a-file"), "data");
    Outcome notAFolder = train(file);
    assertEquals("error: --output " + file + " exists and is not a folder (expected a new, empty or run folder)",
        notAFolder.err().strip());
    assertEquals("data", Files.readString(file));
  }

  @Test
  void anExistingRunIsContinuedOrReplacedOnlyWhenAsked(@TempDir Path tmp) throws IOException {
    Path out = tmp.resolve("run");
    assertEquals(0, train(out).exit());
    assertTrue(Files.isRegularFile(out.resolve(RunFolder.MANIFEST)));
    byte[] model = Files.readAllBytes(out.resolve("model.safetensors"));
    List<MetricsEvent> metrics = MetricsLog.read(out.resolve(MetricsLog.FILE_NAME));

    Outcome again = train(out);
    assertEquals(1, again.exit());
    assertEquals("error: --output " + out + " already holds an lmtrain run; pass --resume to continue it or"
        + " --overwrite to replace it (or choose another folder)", again.err().strip());
    Outcome both = train(out, "--resume", "--overwrite");
    assertEquals(2, both.exit(), both.err());
    assertTrue(both.err().contains("--resume and --overwrite exclude each other"), both.err());
    assertArrayEquals(model, Files.readAllBytes(out.resolve("model.safetensors")));

    // A failing replacement (the loss becomes NaN) keeps the old run whole.
    Path diverging = Files.writeString(tmp.resolve("diverging.json"), "{\"n_layer\": 1, \"n_embd\": 32,"
        + " \"n_head\": 2, \"n_positions\": 32, \"learning_rate\": 1e9, \"max_grad_norm\": 0}");
    Outcome failed = run("train", "--model", "gpt2", "--corpus", corpus.toString(), "--train-tokenizer",
        "--vocab-size", "300", "--config", diverging.toString(), "--output", out.toString(), "--context-length", "24",
        "--overwrite");
    assertEquals(1, failed.exit());
    assertTrue(failed.err().contains("non-finite"), failed.err());
    assertArrayEquals(model, Files.readAllBytes(out.resolve("model.safetensors")));
    assertEquals(List.of(), hiddenSiblings(out));

    // --overwrite replaces the run whole: one run's metrics, not two runs mixed.
    Outcome replaced = train(out, "--overwrite");
    assertEquals(0, replaced.exit(), replaced.err());
    assertEquals(metrics.size(), MetricsLog.read(out.resolve(MetricsLog.FILE_NAME)).size());
    assertTrue(Files.isRegularFile(out.resolve("checkpoint/trainer_state.json")));
    assertEquals(List.of(), hiddenSiblings(out));
  }

  @Test
  void symbolicLinksInARunAreNotFollowed(@TempDir Path tmp) throws IOException {
    Path out = tmp.resolve("run");
    assertEquals(0, train(out).exit());
    Path outside = Files.writeString(tmp.resolve("precious.txt"), "precious\n");
    Files.delete(out.resolve(MetricsLog.FILE_NAME));
    Files.createSymbolicLink(out.resolve(MetricsLog.FILE_NAME), outside);
    Outcome resumed = run("train", "--model", "gpt2", "--corpus", corpus.toString(), "--output", out.toString(),
        "--context-length", "24", "--resume");
    assertEquals(1, resumed.exit());
    assertEquals("error: " + out.resolve(MetricsLog.FILE_NAME) + ": is a symbolic link inside the run folder; lmtrain"
        + " does not follow links out of its output folder (replace it with a plain file or folder)",
        resumed.err().strip());
    assertEquals("precious\n", Files.readString(outside));
  }

  @Test
  void failuresBeforeTheFirstStepLeaveNothingBehind(@TempDir Path tmp) throws IOException {
    Path gpu = tmp.resolve("gpu");
    Outcome noDevice = train(gpu, "--device", "cuda:99");
    assertEquals(1, noDevice.exit());
    assertTrue(noDevice.err().startsWith("error: cannot use cuda:99"), noDevice.err());
    assertFalse(Files.exists(gpu));

    // A vocabulary of whole words leaves the 3 validation lines shorter than one 128-token chunk: the
    // run used to fail after its first step with "the evaluation set has no scored position".
    Path wide = Files.writeString(tmp.resolve("wide.json"), "{\"n_layer\": 1, \"n_embd\": 32, \"n_head\": 2}");
    Path short_ = tmp.resolve("short");
    Outcome noValidation = run("train", "--model", "gpt2", "--corpus", corpus.toString(), "--train-tokenizer",
        "--vocab-size", "8000", "--config", wide.toString(), "--output", short_.toString());
    assertEquals(1, noValidation.exit());
    assertTrue(noValidation.err().startsWith("error: the validation set gives no position to score"),
        noValidation.err());
    assertFalse(Files.exists(short_));

    Path empty = Files.createDirectories(tmp.resolve("empty"));
    assertEquals(1, run("train", "--model", "gpt2", "--corpus", corpus.toString(), "--train-tokenizer",
        "--vocab-size", "8000", "--config", wide.toString(), "--output", empty.toString()).exit());
    assertEquals(List.of(empty), listing(empty), "an empty folder stays empty");

    // A checkpoint that is a file is reported before training, not at the first save.
    Path run = tmp.resolve("run");
    assertEquals(0, train(run).exit());
    ai.lmtrain.io.AtomicFiles.deleteTree(run.resolve("checkpoint"));
    Files.writeString(run.resolve("checkpoint"), "not a folder");
    Outcome fileCheckpoint = run("train", "--model", "gpt2", "--corpus", corpus.toString(), "--output", run.toString(),
        "--resume");
    assertEquals(1, fileCheckpoint.exit());
    assertTrue(fileCheckpoint.err().contains(run.resolve("checkpoint") + "' exists and is not a folder"),
        fileCheckpoint.err());
  }

  @Test
  void theLabFollowsTheSameRules(@TempDir Path tmp) throws IOException {
    Path foreign = Files.createDirectories(tmp.resolve("foreign"));
    Files.writeString(foreign.resolve("notes.txt"), "mine");
    Outcome refused = run("lab", "--output", foreign.toString());
    assertEquals(1, refused.exit());
    assertTrue(refused.err().contains("is a non-empty folder that is not an lmtrain run"), refused.err());

    Path earlier = Files.createDirectories(tmp.resolve("lab"));
    Files.writeString(earlier.resolve(RunFolder.MANIFEST), "{\"format\": \"lmtrain-run\", \"version\": 1,"
        + " \"kind\": \"lab\"}");
    Outcome again = run("lab", "--output", earlier.toString());
    assertEquals(1, again.exit());
    assertTrue(again.err().contains("already holds an lmtrain run"), again.err());
    assertEquals("mine", Files.readString(foreign.resolve("notes.txt")));
  }

  @Test
  void finetuneFollowsTheSameRules(@TempDir Path tmp) throws IOException {
    Path mine = Files.createDirectories(tmp.resolve("mine"));
    Files.writeString(mine.resolve("config.json"), "my own config");
    for (String[] flags : new String[][] {{}, {"--overwrite"}, {"--resume"}}) {
      Outcome refused = finetune(mine, flags);
      assertEquals(1, refused.exit(), refused.err());
      assertTrue(refused.err().startsWith("error: --output " + mine + " is a non-empty folder that is not an lmtrain"
          + " run"), refused.err());
    }
    assertEquals(List.of(mine, mine.resolve("config.json")), listing(mine));

    Path out = tmp.resolve("classifier");
    Outcome first = finetune(out);
    assertEquals(0, first.exit(), first.err());
    assertEquals("finetune", new com.fasterxml.jackson.databind.ObjectMapper().readTree(
        out.resolve(RunFolder.MANIFEST).toFile()).get("kind").asText());
    byte[] model = Files.readAllBytes(out.resolve("model.safetensors"));
    int metrics = MetricsLog.read(out.resolve(MetricsLog.FILE_NAME)).size();
    Outcome again = finetune(out);
    assertEquals(1, again.exit());
    assertEquals("error: --output " + out + " already holds an lmtrain run; pass --resume to continue it or"
        + " --overwrite to replace it (or choose another folder)", again.err().strip());
    Outcome both = finetune(out, "--resume", "--overwrite");
    assertEquals(2, both.exit(), both.err());
    assertTrue(both.err().contains("--resume and --overwrite exclude each other"), both.err());

    // A failing replacement (the loss becomes NaN) keeps the old run whole and leaves no hidden sibling.
    Path diverging = Files.writeString(tmp.resolve("diverging.json"), "{\"max_steps\": 3, \"learning_rate\": 1e9,"
        + " \"max_grad_norm\": 0, \"per_device_train_batch_size\": 8}");
    Outcome failed = run("finetune", "--model", base.toString(), "--train", topics.toString(), "--text-column", "text",
        "--label-column", "label", "--config", diverging.toString(), "--max-length", "16", "--output", out.toString(),
        "--overwrite");
    assertEquals(1, failed.exit());
    assertTrue(failed.err().contains("non-finite"), failed.err());
    assertArrayEquals(model, Files.readAllBytes(out.resolve("model.safetensors")));
    assertEquals(List.of(), hiddenSiblings(out));

    Outcome replaced = finetune(out, "--overwrite");
    assertEquals(0, replaced.exit(), replaced.err());
    assertEquals(metrics, MetricsLog.read(out.resolve(MetricsLog.FILE_NAME)).size(), "one run's metrics, not two");
    assertEquals(List.of(), hiddenSiblings(out));

    Path outside = Files.writeString(tmp.resolve("precious.txt"), "precious\n");
    Files.delete(out.resolve(MetricsLog.FILE_NAME));
    Files.createSymbolicLink(out.resolve(MetricsLog.FILE_NAME), outside);
    Outcome linked = finetune(out, "--resume");
    assertEquals(1, linked.exit());
    assertTrue(linked.err().startsWith("error: " + out.resolve(MetricsLog.FILE_NAME) + ": is a symbolic link inside"
        + " the run folder"), linked.err());
    assertEquals("precious\n", Files.readString(outside));
  }

  @Test
  void aFinetuneThatFailsAtItsFirstStepLeavesNothingBehind(@TempDir Path tmp) throws IOException {
    // A base whose final LayerNorm weights are NaN: everything loads, the first step's loss is NaN.
    Path corrupt = tmp.resolve("corrupt-base");
    ai.lmtrain.io.SaveKillPoints.copyTree(base, corrupt);
    Map<String, TensorData> tensors = new LinkedHashMap<>(SafeTensors.read(base.resolve("model.safetensors"))
        .tensors());
    TensorData lnF = tensors.get("transformer.ln_f.weight");
    float[] nan = new float[(int) lnF.numel()];
    Arrays.fill(nan, Float.NaN);
    tensors.put("transformer.ln_f.weight", TensorData.ofFloats(lnF.shape(), nan));
    Files.delete(corrupt.resolve("model.safetensors"));
    SafeTensors.write(corrupt.resolve("model.safetensors"), tensors);
    for (Path out : new Path[] {tmp.resolve("new"), Files.createDirectory(tmp.resolve("empty"))}) {
      Outcome failed = run("finetune", "--model", corrupt.toString(), "--train", topics.toString(), "--text-column",
          "text", "--label-column", "label", "--config", finetuneConfig.toString(), "--max-length", "16", "--output",
          out.toString());
      assertEquals(1, failed.exit());
      assertTrue(failed.err().contains("non-finite (loss NaN) at step 1"), failed.err());
      assertEquals(out.endsWith("new") ? List.of() : List.of(out), Files.exists(out) ? listing(out) : List.of(),
          "nothing left in " + out);
      assertEquals(List.of(), hiddenSiblings(out));
    }
  }

  /** A named pipe: a command reading it as its corpus blocks, holding its output folder, until it is written. */
  private static Path fifo(Path dir) throws Exception {
    Path pipe = dir.resolve("corpus.fifo");
    assertEquals(0, new ProcessBuilder("mkfifo", pipe.toString()).start().waitFor(), "mkfifo");
    return pipe;
  }

  /** Opens the pipe for writing, which returns once its reader (a command in its claimed folder) opened it. */
  private static OutputStream awaitReader(Path pipe) throws Exception {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return Files.newOutputStream(pipe);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }).get(5, TimeUnit.MINUTES);
  }

  private static String[] trainFrom(Path text, Path out) {
    return new String[] {"train", "--model", "gpt2", "--corpus", text.toString(), "--tokenizer", tokenizer.toString(),
        "--config", config.toString(), "--output", out.toString(), "--context-length", "24"};
  }

  private static void assertInUse(Outcome refused, Path out, long pid) {
    assertEquals(1, refused.exit(), refused.err());
    assertTrue(refused.err().startsWith("error: " + out.toAbsolutePath() + ": is in use by another lmtrain process (pid "
        + pid + " on " + ai.lmtrain.io.FolderLock.hostName() + ", lmtrain train since "), refused.err());
    assertEquals(1, refused.err().strip().lines().count(), refused.err());
  }

  @Test
  void twoCommandsNeverWriteOneFolderAtOnce(@TempDir Path tmp) throws Exception {
    Path pipe = fifo(tmp);
    Path out = tmp.resolve("run");
    CompletableFuture<Outcome> first = CompletableFuture.supplyAsync(() -> run(trainFrom(pipe, out)));
    try (OutputStream corpusText = awaitReader(pipe)) {
      long pid = ProcessHandle.current().pid();
      assertInUse(run(trainFrom(corpus, out)), out, pid);
      assertInUse(run("train", "--model", "gpt2", "--corpus", corpus.toString(), "--output",
          out.toString(), "--resume"), out, pid);
      assertInUse(finetune(out), out, pid);
      assertInUse(run("lab", "--output", out.toString()), out, pid);
      assertInUse(run("train-tokenizer", "--type", "bpe", "--corpus", corpus.toString(), "--vocab-size", "300",
          "--output", out.toString()), out, pid);
      assertFalse(Files.exists(out), "the refused commands created nothing");
      corpusText.write(Files.readAllBytes(corpus));
    }
    Outcome done = first.get(5, TimeUnit.MINUTES);
    assertEquals(0, done.exit(), done.err());
    assertTrue(Files.isRegularFile(out.resolve("model.safetensors")));
    assertEquals(List.of(out), siblingsOf(out), "the lock file is gone");
  }

  private static List<Path> siblingsOf(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir.getParent())) {
      return files.filter(p -> p.getFileName().toString().contains(dir.getFileName().toString())).sorted().toList();
    }
  }

  @Test
  void aSecondProcessIsRefusedAndItsLockDiesWithIt(@TempDir Path tmp) throws Exception {
    Path pipe = fifo(tmp);
    Path out = tmp.resolve("run");
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    command.addAll(List.of(trainFrom(pipe, out)));
    Process other = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(tmp.resolve("other.log").toFile()).start();
    try {
      OutputStream corpusText = awaitReader(pipe);
      assertInUse(run(trainFrom(corpus, out)), out, other.pid());
      other.destroyForcibly().waitFor();
      corpusText.close();
    } finally {
      other.destroyForcibly();
    }
    assertTrue(Files.exists(out.resolveSibling(".run.lock")), "the killed process left its lock file");
    Outcome after = run(trainFrom(corpus, out));
    assertEquals(0, after.exit(), after.err());
    assertEquals(List.of(out), siblingsOf(out));
  }

  @Test
  void trainTokenizerReplacesOnlyTokenizerFilesAndOnlyWhenAsked(@TempDir Path tmp) throws IOException {
    Path folder = Files.createDirectories(tmp.resolve("folder"));
    Files.writeString(folder.resolve("notes.txt"), "mine");
    Outcome wordPiece = run("train-tokenizer", "--type", "wordpiece", "--corpus", corpus.toString(), "--vocab-size",
        "200", "--output", folder.toString());
    assertEquals(1, wordPiece.exit());
    assertEquals("error: --output " + folder + " is not empty; pass --overwrite to replace the tokenizer files in it"
        + " (tokenizer.json, tokenizer_config.json, vocab.txt, vocab.json, merges.txt, special_tokens_map.json,"
        + " added_tokens.json; its other files are kept), or choose a new or empty folder", wordPiece.err().strip());
    assertEquals(List.of(folder, folder.resolve("notes.txt")), listing(folder));

    assertEquals(0, run("train-tokenizer", "--type", "wordpiece", "--corpus", corpus.toString(), "--vocab-size", "200",
        "--output", folder.toString(), "--overwrite").exit());
    Files.writeString(folder.resolve("special_tokens_map.json"), "{\"cls_token\": \"[CLS]\"}");
    Outcome bpe = run("train-tokenizer", "--type", "bpe", "--corpus", corpus.toString(), "--vocab-size", "300",
        "--output", folder.toString(), "--overwrite");
    assertEquals(0, bpe.exit(), bpe.err());
    assertEquals(List.of(folder, folder.resolve("merges.txt"), folder.resolve("notes.txt"),
        folder.resolve("tokenizer.json"), folder.resolve("tokenizer_config.json"), folder.resolve("vocab.json")),
        listing(folder), "the WordPiece files (vocab.txt, special_tokens_map.json) replaced by the BPE ones");
    assertEquals("mine", Files.readString(folder.resolve("notes.txt")));
    assertTrue(Tokenizers.load(folder) instanceof ai.lmtrain.tokenizers.ByteLevelBpeTokenizer);

    Path outside = Files.writeString(tmp.resolve("precious.json"), "precious");
    Files.delete(folder.resolve("tokenizer.json"));
    Files.createSymbolicLink(folder.resolve("tokenizer.json"), outside);
    Outcome linked = run("train-tokenizer", "--type", "bpe", "--corpus", corpus.toString(), "--vocab-size", "300",
        "--output", folder.toString(), "--overwrite");
    assertEquals(1, linked.exit());
    assertEquals("error: " + folder.resolve("tokenizer.json") + ": is a symbolic link; lmtrain does not write through"
        + " or over links (remove it or choose another folder)", linked.err().strip());
    assertEquals("precious", Files.readString(outside));

    Outcome intoARun = run("train-tokenizer", "--type", "bpe", "--corpus", corpus.toString(), "--vocab-size", "300",
        "--output", base.toString(), "--overwrite");
    assertEquals(1, intoARun.exit());
    assertEquals("error: --output " + base + " is an lmtrain run, whose tokenizer belongs to its model:"
        + " train-tokenizer does not replace it (choose another folder)", intoARun.err().strip());
  }
}
