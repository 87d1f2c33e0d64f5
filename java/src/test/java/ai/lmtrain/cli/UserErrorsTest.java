package ai.lmtrain.cli;

import static ai.lmtrain.cli.CliRunner.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.cli.CliRunner.Outcome;
import ai.lmtrain.data.TextSource;
import ai.lmtrain.io.AtomicFiles;
import ai.lmtrain.io.SaveKillPoints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad flags, tampered files and mismatched folders get one clear error naming the flag or file and
 * what was expected (exit 2 for a flag, 1 otherwise); nothing is accepted silently or clamped.
 */
class UserErrorsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path shared;
  private static Path corpus;
  private static Path gpt2;

  @BeforeAll
  static void trainATinyGpt2() throws IOException {
    corpus = shared.resolve("corpus.txt");
    Files.write(corpus, TextSource.bundledLines("toy_corpus.txt"));
    Path config = Files.writeString(shared.resolve("config.json"), "{\"n_layer\": 1, \"n_embd\": 32, \"n_head\": 2,"
        + " \"n_positions\": 32, \"num_train_epochs\": 1, \"per_device_train_batch_size\": 4}");
    gpt2 = shared.resolve("gpt2");
    Outcome trained = run("train", "--model", "gpt2", "--corpus", corpus.toString(), "--train-tokenizer",
        "--vocab-size", "300", "--config", config.toString(), "--output", gpt2.toString(), "--context-length", "24");
    assertEquals(0, trained.exit(), trained.err());
  }

  private static void assertUsageError(String expected, String... args) {
    Outcome o = run(args);
    assertEquals(2, o.exit(), o.err());
    assertTrue(o.err().startsWith("error: " + expected), o.err());
    assertEquals(1, o.err().strip().lines().count(), "one line: " + o.err());
  }

  private static void assertError(String expected, String... args) {
    Outcome o = run(args);
    assertEquals(1, o.exit(), o.err());
    assertTrue(o.err().startsWith("error: " + expected), o.err());
    assertEquals(1, o.err().strip().lines().count(), "one line: " + o.err());
  }

  @Test
  void generationFlagsAreRangeChecked() throws IOException {
    String model = gpt2.toString();
    assertUsageError("--max-new-tokens 2147483647 is too many: the prompt has ", "generate", "--model", model,
        "--prompt", "The lion", "--max-new-tokens", "2147483647");
    assertUsageError("--max-new-tokens 40 is too many", "generate", "--model", model, "--prompt", "The lion",
        "--max-new-tokens", "40");
    assertUsageError("--max-new-tokens must be at least 0 (got -1)", "generate", "--model", model, "--prompt", "x",
        "--max-new-tokens", "-1");
    for (String t : new String[] {"0", "-1", "NaN", "Infinity"}) {
      assertUsageError("--temperature must be a finite number in (0, ", "generate", "--model", model, "--prompt", "x",
          "--do-sample", "--temperature", t);
    }
    assertUsageError("--top-p must be a finite number in (0, 1] (got 0.0)", "generate", "--model", model, "--prompt",
        "x", "--do-sample", "--top-p", "0");
    assertUsageError("--top-k must be at least 0", "generate", "--model", model, "--prompt", "x", "--top-k", "-3");
    assertUsageError("--prompt '' gives no token", "generate", "--model", model, "--prompt", "");
    assertUsageError("--text '' gives no token", "next-token", "--model", model, "--text", "");
    assertUsageError("--top-k must be at least 1 (got 0)", "next-token", "--model", model, "--text", "x", "--top-k",
        "0");

    // A temperature too small for s / T to stay finite samples the greedy token, not "token id -1".
    Outcome tiny = run("generate", "--model", model, "--prompt", "The lion", "--max-new-tokens", "5", "--do-sample",
        "--temperature", "1e-45", "--json");
    Outcome greedy = run("generate", "--model", model, "--prompt", "The lion", "--max-new-tokens", "5", "--json");
    assertEquals(0, tiny.exit(), tiny.err());
    assertEquals(JSON.readTree(greedy.out()).get("token_ids"), JSON.readTree(tiny.out()).get("token_ids"));
  }

  @Test
  void evaluationFlagsAreCheckedNotClamped() {
    String model = gpt2.toString();
    String c = corpus.toString();
    assertUsageError("--context-length must be in [2, 32] (got 1000)", "eval", "--model", model, "--corpus", c,
        "--context-length", "1000");
    assertUsageError("--context-length must be in [2, 32] (got 0)", "eval", "--model", model, "--corpus", c,
        "--context-length", "0");
    assertUsageError("--mlm-probability must be a finite number in (0, 1) (got NaN)", "eval", "--model", model,
        "--corpus", c, "--mlm-probability", "NaN");
    assertUsageError("--batch-size must be in [1, 65536] (got 0)", "eval", "--model", model, "--corpus", c,
        "--batch-size", "0");
    assertUsageError("--context-length must be in [2, ", "train", "--model", "gpt2", "--corpus", c,
        "--train-tokenizer", "--output", shared.resolve("unused").toString(), "--context-length", "0");
    assertUsageError("--vocab-size must be in [1, ", "train", "--model", "gpt2", "--corpus", c, "--train-tokenizer",
        "--output", shared.resolve("unused").toString(), "--vocab-size", "0");
    assertUsageError("give --tokenizer PATH or --train-tokenizer", "train", "--model", "gpt2", "--corpus", c,
        "--output", shared.resolve("unused").toString());
    assertTrue(!Files.exists(shared.resolve("unused")));
  }

  @Test
  void trainingConfigsAreStrict(@TempDir Path tmp) throws IOException {
    String c = corpus.toString();
    String[][] configs = {
        {"{\"bf16\": true, \"fp16\": true}", "config keys [bf16, fp16] each choose a precision"},
        {"{\"n_embd\": \"32\"}", "invalid gpt2 config: invalid value for 'n_embd'"},
        {"{\"learning_rate\": 1e-3, \"learning_rate\": 1}", "duplicate key"},
        {"{\"n_layer\": 100000}", "invalid gpt2 config: n_layer 100000 is above the limit of 4096"},
    };
    for (String[] config : configs) {
      Path file = Files.writeString(tmp.resolve("c.json"), config[0]);
      Outcome o = run("train", "--model", "gpt2", "--corpus", c, "--train-tokenizer", "--vocab-size", "300",
          "--config", file.toString(), "--output", tmp.resolve("out").toString());
      assertEquals(1, o.exit(), o.err());
      assertTrue(o.err().contains(config[1]) && o.err().strip().lines().count() == 1, config[0] + " -> " + o.err());
      assertTrue(!Files.exists(tmp.resolve("out")), config[0]);
    }
  }

  @Test
  void aForeignTokenizerInAModelFolderIsRefused(@TempDir Path tmp) throws IOException {
    Path folder = tmp.resolve("gpt2-with-bert-tokenizer");
    SaveKillPoints.copyTree(gpt2, folder);
    for (String f : new String[] {"tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json"}) {
      Files.delete(folder.resolve(f));
    }
    Path bertTokenizer = tmp.resolve("bert-tokenizer");
    Outcome tok = run("train-tokenizer", "--type", "wordpiece", "--corpus", corpus.toString(), "--vocab-size", "100",
        "--output", bertTokenizer.toString());
    assertEquals(0, tok.exit(), tok.err());
    for (String f : new String[] {"tokenizer.json", "vocab.txt", "tokenizer_config.json"}) {
      Files.copy(bertTokenizer.resolve(f), folder.resolve(f));
    }
    String expected = "the tokenizer in " + folder + " does not fit its gpt2 model: config.json's bos_token_id is ";
    assertError(expected, "generate", "--model", folder.toString(), "--prompt", "The lion");
    assertError(expected, "eval", "--model", folder.toString(), "--corpus", corpus.toString());
  }

  @Test
  void messagesNameTheFile(@TempDir Path tmp) throws IOException {
    Path binary = Files.write(tmp.resolve("metrics.jsonl"), new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1});
    assertError(binary + ": is not UTF-8 text (expected a metrics.jsonl file: one JSON object per line)", "plot",
        "--metrics", binary.toString(), "--output", tmp.resolve("p.png").toString());

    Path run = tmp.resolve("run");
    SaveKillPoints.copyTree(gpt2, run);
    Files.delete(run.resolve("checkpoint/optimizer.safetensors"));
    assertError(run.resolve("checkpoint/optimizer.safetensors") + ": missing the optimizer state of the checkpoint",
        "train", "--model", "gpt2", "--corpus", corpus.toString(), "--output", run.toString(), "--context-length",
        "24", "--resume");

    Path state = run.resolve("checkpoint/trainer_state.json");
    Files.writeString(state, "garbage");
    assertError(state + ": not valid JSON", "train", "--model", "gpt2", "--corpus", corpus.toString(), "--output",
        run.toString(), "--context-length", "24", "--resume");

    AtomicFiles.deleteTree(run.resolve("checkpoint"));
    assertError("nothing to resume: " + run.resolve("checkpoint") + " does not exist", "train", "--model", "gpt2",
        "--corpus", corpus.toString(), "--output", run.toString(), "--resume");
  }
}
