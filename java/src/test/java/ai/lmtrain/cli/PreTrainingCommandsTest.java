package ai.lmtrain.cli;

import static ai.lmtrain.cli.CliRunner.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.cli.CliRunner.Outcome;
import ai.lmtrain.data.TextSource;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train} with the seed-fidelity options from the command line: {@code --model
 * roberta-prelayernorm} (pre-LN BERT), {@code --objective mlm+nsp|mlm+sop} on a corpus of
 * blank-line separated documents, the {@code initializer} config key, and their one-line errors.
 */
class PreTrainingCommandsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The toy corpus as three documents of ten sentences, separated by blank lines. */
  private static Path documents(Path dir) throws Exception {
    List<String> lines = TextSource.bundledLines("toy_corpus.txt");
    List<String> out = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      if (i > 0 && i % 10 == 0) {
        out.add("");
      }
      out.add(lines.get(i));
    }
    return Files.write(dir.resolve("documents.txt"), out);
  }

  private static Path config(Path dir, String extra) throws Exception {
    return Files.writeString(dir.resolve("config.json"), "{\"num_hidden_layers\": 1, \"hidden_size\": 32,"
        + " \"num_attention_heads\": 2, \"intermediate_size\": 64, \"max_position_embeddings\": 40,"
        + " \"num_train_epochs\": 1, \"per_device_train_batch_size\": 4, \"learning_rate\": 3e-3,"
        + " \"logging_steps\": 5" + extra + "}");
  }

  @Test
  void preLayerNormBertWithSentenceOrderPrediction(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("run");
    Outcome trained = run("train", "--model", "roberta-prelayernorm", "--objective", "mlm+sop", "--corpus",
        documents(tmp).toString(), "--validation-split", "0.34", "--train-tokenizer", "--vocab-size", "300",
        "--config", config(tmp, ", \"initializer\": \"pytorch\"").toString(), "--output", out.toString(),
        "--context-length", "32", "--dupe-factor", "3");
    assertEquals(0, trained.exit(), trained.err());
    assertTrue(trained.out().contains(", SOP accuracy "), trained.out());
    JsonNode config = JSON.readTree(out.resolve("config.json").toFile());
    assertEquals("roberta-prelayernorm", config.get("model_type").asText());
    assertEquals("RobertaPreLayerNormForMaskedLM", config.get("architectures").get(0).asText());
    assertEquals("pytorch", config.get("initializer").asText());
    assertEquals(0, config.get("pad_token_id").asInt(), "the tokenizer's [PAD]");

    Outcome filled = run("fill-mask", "--model", out.toString(), "--text", "The lion is the [MASK] of the savanna.",
        "--json");
    assertEquals(0, filled.exit(), filled.err());
    assertEquals(5, JSON.readTree(filled.out()).get("masks").get(0).size(), filled.out());
  }

  @Test
  void bertWithNextSentencePrediction(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("run");
    Outcome trained = run("train", "--model", "bert", "--objective", "mlm+nsp", "--corpus", documents(tmp).toString(),
        "--validation", documents(tmp).toString(), "--train-tokenizer", "--vocab-size", "300", "--config",
        config(tmp, "").toString(), "--output", out.toString(), "--context-length", "32");
    assertEquals(0, trained.exit(), trained.err());
    assertTrue(trained.out().contains(", NSP accuracy "), trained.out());
    assertEquals("BertForPreTraining", JSON.readTree(out.resolve("config.json").toFile()).get("architectures").get(0)
        .asText());
  }

  @Test
  void badObjectivesGiveOneLineErrors(@TempDir Path tmp) throws Exception {
    Path docs = documents(tmp);
    String o = tmp.resolve("o").toString();
    assertEquals("error: --objective must be mlm, mlm+nsp or mlm+sop (got 'nsp')", run("train", "--model", "bert",
        "--objective", "nsp", "--corpus", docs.toString(), "--train-tokenizer", "--output", o).err().strip());
    assertEquals("error: --objective applies to BERT models; GPT-2 trains the causal LM objective", run("train",
        "--model", "gpt2", "--objective", "mlm+nsp", "--corpus", docs.toString(), "--train-tokenizer", "--output", o)
        .err().strip());
    assertEquals("error: --mode does not apply to --objective mlm+sop (the examples are sentence pairs of up to"
        + " --context-length tokens, from the documents of --corpus)", run("train", "--model", "bert", "--objective", "mlm+sop", "--mode",
        "chunks", "--corpus", docs.toString(), "--train-tokenizer", "--output", o).err().strip());
    Path oneDocument = Files.write(tmp.resolve("one.txt"), TextSource.bundledLines("toy_corpus.txt"));
    Outcome single = run("train", "--model", "bert", "--objective", "mlm+nsp", "--corpus", oneDocument.toString(),
        "--validation", oneDocument.toString(), "--train-tokenizer", "--vocab-size", "300", "--config",
        config(tmp, "").toString(), "--output", o, "--context-length", "32");
    assertEquals(1, single.exit());
    assertEquals("error: next sentence prediction needs at least 2 documents (a random second segment comes from"
        + " another document), got 1; separate documents with blank lines", single.err().strip());
  }
}
