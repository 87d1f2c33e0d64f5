package ai.lmtrain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model commands from the command line: {@code train} with a JSON config, then {@code generate},
 * {@code next-token} and {@code eval} with {@code --json} (one JSON object on stdout), {@code
 * --resume}, and the one-line errors of bad input.
 */
class ModelCommandsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  record Outcome(int exit, String out, String err) {}

  static Outcome run(String... args) {
    PrintStream stdout = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StringWriter err = new StringWriter();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      var cl = Main.commandLine();
      cl.setErr(new PrintWriter(err, true));
      int exit = cl.execute(args);
      return new Outcome(exit, out.toString(StandardCharsets.UTF_8), err.toString());
    } finally {
      System.setOut(stdout);
    }
  }

  @Test
  void trainThenInspectTheModel(@TempDir Path tmp) throws Exception {
    Path corpus = tmp.resolve("corpus.txt");
    Files.write(corpus, ai.lmtrain.data.TextSource.bundledLines("toy_corpus.txt"));
    Path config = tmp.resolve("config.json");
    Files.writeString(config, "{\"n_layer\": 1, \"n_embd\": 32, \"n_head\": 2, \"n_positions\": 32,"
        + " \"num_train_epochs\": 2, \"per_device_train_batch_size\": 4, \"learning_rate\": 3e-3,"
        + " \"logging_steps\": 5, \"warmup_steps\": 2}");
    Path out = tmp.resolve("run");
    Outcome trained = run("train", "--model", "gpt2", "--corpus", corpus.toString(), "--train-tokenizer",
        "--vocab-size", "300", "--config", config.toString(), "--output", out.toString(), "--mode", "lines",
        "--context-length", "24");
    assertEquals(0, trained.exit(), trained.err());
    assertTrue(trained.out().contains("saved to " + out), trained.out());

    Outcome generated = run("generate", "--model", out.toString(), "--prompt", "The lion", "--max-new-tokens", "5",
        "--do-sample", "--seed", "3", "--json");
    assertEquals(0, generated.exit(), generated.err());
    JsonNode g = JSON.readTree(generated.out());
    assertTrue(g.get("generated_text").asText().startsWith("The lion"), generated.out());
    assertEquals(1, generated.out().strip().lines().count(), "one JSON object on stdout");

    JsonNode next = JSON.readTree(run("next-token", "--model", out.toString(), "--text", "The lion is", "--top-k", "3",
        "--json").out());
    assertEquals(3, next.get("next").size());

    Outcome eval = run("eval", "--model", out.toString(), "--corpus", corpus.toString(), "--json");
    assertEquals(0, eval.exit(), eval.err());
    JsonNode e = JSON.readTree(eval.out());
    assertEquals(Math.exp(e.get("loss").asDouble()), e.get("perplexity").asDouble(), 1e-9);

    Outcome resumed = run("train", "--model", "gpt2", "--corpus", corpus.toString(), "--train-tokenizer",
        "--config", config.toString(), "--output", out.toString(), "--mode", "lines", "--context-length", "24",
        "--resume");
    assertEquals(0, resumed.exit(), resumed.err()); // already at its last step: nothing left to train

    Outcome wrongKind = run("fill-mask", "--model", out.toString(), "--text", "a [MASK]");
    assertEquals(1, wrongKind.exit());
    assertEquals("error: " + out + " holds a gpt2 model; fill-mask needs a BERT (masked LM) model",
        wrongKind.err().strip());
  }

  @Test
  void badConfigAndFlagsGiveOneLineErrors(@TempDir Path tmp) throws Exception {
    Path corpus = tmp.resolve("corpus.txt");
    Files.writeString(corpus, "a b c\n");
    Path config = tmp.resolve("config.json");
    Files.writeString(config, "{\"lerning_rate\": 1}");
    Outcome typo = run("train", "--model", "gpt2", "--corpus", corpus.toString(), "--train-tokenizer", "--vocab-size",
        "300", "--config", config.toString(), "--output", tmp.resolve("o").toString());
    assertEquals(1, typo.exit());
    assertTrue(typo.err().startsWith("error: unknown key 'lerning_rate' in " + config), typo.err());
    Outcome model = run("train", "--model", "gpt3", "--corpus", corpus.toString(), "--train-tokenizer", "--output",
        tmp.resolve("o").toString());
    assertEquals("error: --model must be bert or gpt2 (got 'gpt3')", model.err().strip());
    assertEquals(2, run("generate", "--prompt", "x").exit(), "missing --model is a usage error");
  }
}
