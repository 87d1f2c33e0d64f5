package ai.lmtrain.cli;

import ai.lmtrain.tokenizers.EncodeOptions;
import ai.lmtrain.tokenizers.Encoding;
import ai.lmtrain.tokenizers.Tokenizer;
import ai.lmtrain.tokenizers.Tokenizers;
import ai.lmtrain.tokenizers.Utf8Lines;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lmtrain tokenize}: print the ids and tokens of a text or of each line of a file. */
@Command(name = "tokenize", mixinStandardHelpOptions = true, description = "Tokenize text with a tokenizer.")
public final class TokenizeCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--tokenizer", required = true, paramLabel = "PATH",
      description = "tokenizer.json, vocab.txt, vocab.json, or a folder holding them")
  Path tokenizer;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Input input;

  static final class Input {
    @Option(names = "--text", paramLabel = "TEXT", description = "the text to tokenize") String text;

    @Option(names = "--file", paramLabel = "FILE", description = "tokenize each line of this UTF-8 file") Path file;
  }

  @Option(names = "--no-special-tokens", description = "do not add special tokens such as [CLS]/[SEP]")
  boolean noSpecialTokens;

  @Option(names = "--json", description = "print one JSON object {\"ids\":[...],\"tokens\":[...]} per text")
  boolean json;

  @Override
  public Integer call() {
    Tokenizer tok = Tokenizers.load(tokenizer);
    List<String> texts = input.text != null ? List.of(input.text) : Utf8Lines.read(input.file);
    EncodeOptions options = EncodeOptions.defaults().withAddSpecialTokens(!noSpecialTokens);
    ObjectMapper mapper = new ObjectMapper();
    PrintWriter out = spec.commandLine().getOut();
    for (String text : texts) {
      Encoding e = tok.encode(text, options);
      if (json) {
        ObjectNode node = mapper.createObjectNode();
        node.putArray("ids").addAll(Arrays.stream(e.ids()).mapToObj(mapper.getNodeFactory()::numberNode).toList());
        node.putArray("tokens").addAll(Arrays.stream(e.tokens()).map(mapper.getNodeFactory()::textNode).toList());
        out.println(node);
      } else {
        out.println("ids:    " + Arrays.toString(e.ids()));
        out.println("tokens: " + String.join(" ", e.tokens()));
      }
    }
    out.flush();
    return 0;
  }
}
