package ai.lmtrain.tokenizers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.cli.TokenizeCommand;
import ai.lmtrain.cli.TrainTokenizerCommand;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The tokenizer commands, run in-process (kept in this package so the tokenizer test selection runs them). */
class TokenizerCommandsTest {

  private record Run(int exit, String out, String err) {}

  private static Run run(Object command, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(command);
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int exit = cl.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void tokenizeJsonPrintsOneObjectPerText(@TempDir Path dir) throws Exception {
    String vocab = TestData.resource("bert-base-uncased/vocab.txt").toString();
    Run r = run(new TokenizeCommand(), "--tokenizer", vocab, "--text", "Hello, world!", "--json");
    assertEquals(0, r.exit(), r.err());
    JsonNode node = VocabFiles.JSON.readTree(r.out());
    assertEquals(2, node.size());
    assertEquals("[101,7592,1010,2088,999,102]", node.get("ids").toString());
    assertEquals("[CLS]", node.get("tokens").get(0).asText());
    Path file = Files.writeString(dir.resolve("in.txt"), "Hello, world\nEvery effort moves you\n");
    Path gpt2 = TestData.resource("ai/lmtrain/tokenizers/gpt2/vocab.json").getParent();
    r = run(new TokenizeCommand(), "--tokenizer", gpt2.toString(), "--file", file.toString(), "--json", "--no-special-tokens");
    String[] lines = r.out().split("\n");
    assertEquals(2, lines.length);
    assertEquals("{\"ids\":[15496,11,995],\"tokens\":[\"Hello\",\",\",\"Ġworld\"]}", lines[0]);
  }

  @Test
  void trainTokenizerWritesLoadableFiles(@TempDir Path dir) {
    Path corpus = TestData.resource("ai/lmtrain/data/toy_corpus.txt");
    for (String type : new String[] {"bpe", "wordpiece"}) {
      Path out = dir.resolve(type);
      Run r = run(new TrainTokenizerCommand(), "--type", type, "--corpus", corpus.toString(), "--vocab-size", "400",
          "--min-frequency", "1", "--output", out.toString());
      assertEquals(0, r.exit(), r.err());
      assertTrue(r.out().startsWith("trained " + type + " tokenizer: vocab size "), r.out());
      assertEquals(1, r.out().split("\n").length);
      Tokenizer loaded = Tokenizers.load(out);
      Tokenizer legacy = Tokenizers.load(type.equals("bpe") ? out.resolve("vocab.json") : out.resolve("vocab.txt"));
      String line = "The lion is the king of the savanna.";
      assertArrayEquals(loaded.encode(line).ids(), legacy.encode(line).ids());
    }
  }
}
