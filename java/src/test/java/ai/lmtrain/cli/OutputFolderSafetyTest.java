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
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --output} and {@code lab --output} never lose or overwrite a user's files: a foreign
 * folder is refused, an existing run needs --resume or --overwrite, --overwrite replaces a run whole
 * (and keeps it when the new run fails), symbolic links are not followed, and a run that fails
 * before its first step leaves nothing behind.
 */
class OutputFolderSafetyTest {
  @TempDir static Path shared;
  private static Path corpus;
  private static Path config;

  @BeforeAll
  static void files() throws IOException {
    corpus = shared.resolve("corpus.txt");
    Files.write(corpus, TextSource.bundledLines("toy_corpus.txt"));
    config = shared.resolve("config.json");
    Files.writeString(config, "{\"n_layer\": 1, \"n_embd\": 32, \"n_head\": 2, \"n_positions\": 32,"
        + " \"num_train_epochs\": 1, \"per_device_train_batch_size\": 4, \"logging_steps\": 5}");
  }

  private static Outcome train(Path out, String... extra) {
    List<String> args = new ArrayList<>(List.of("train", "--model", "gpt2", "--corpus", corpus.toString(),
        "--train-tokenizer", "--vocab-size", "300", "--config", config.toString(), "--output", out.toString(),
        "--context-length", "24"));
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
}
