package ai.lmtrain.cli;

import ai.lmtrain.infer.TextClassifier;
import ai.lmtrain.models.SequenceClassifier;
import ai.lmtrain.tokenizers.Utf8Lines;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code lmtrain classify}: the labels of a text, or of each line of a file, from a sequence
 * classifier, as Hugging Face's text-classification pipeline reports them ({@code label},
 * {@code score}).
 */
@Command(name = "classify", mixinStandardHelpOptions = true,
    description = "Classify texts with a fine-tuned sequence classifier (label and score, as the HF pipeline).")
final class ClassifyCommand implements Callable<Integer> {
  @Mixin LoadedModel model;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Input input;

  static final class Input {
    @Option(names = "--text", paramLabel = "T", description = "the text to classify") String text;

    @Option(names = "--file", paramLabel = "F", description = "classify each non-blank line of this UTF-8 file") Path file;
  }

  @Option(names = "--top-k", defaultValue = "1",
      description = "labels per text, highest score first; 0 for all (default: ${DEFAULT-VALUE})")
  int topK;

  @Option(names = "--json", description = "print one JSON object {\"results\": [{\"text\": ..., \"labels\": [{label, score}...]}...]}")
  boolean json;

  @Override
  public Integer call() throws Exception {
    List<String> texts = new ArrayList<>();
    if (input.text != null) {
      texts.add(input.text);
    } else {
      for (String line : Utf8Lines.read(input.file)) {
        if (!line.isBlank()) {
          texts.add(line);
        }
      }
      if (texts.isEmpty()) {
        throw new IllegalArgumentException(input.file + ": no text to classify (the file has no non-blank line)");
      }
    }
    try (LoadedModel.Open<SequenceClassifier> open = model.openClassifier()) {
      List<List<TextClassifier.Prediction>> results = TextClassifier.classify(open.model(), open.tokenizer(), texts,
          topK);
      if (json) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
          Map<String, Object> entry = new LinkedHashMap<>();
          entry.put("text", texts.get(i));
          entry.put("labels", results.get(i).stream().map(p -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("label", p.label());
            m.put("score", p.score());
            return m;
          }).toList());
          out.add(entry);
        }
        JsonOut.print(Map.of("results", out));
        return 0;
      }
      for (int i = 0; i < texts.size(); i++) {
        StringBuilder line = new StringBuilder();
        for (TextClassifier.Prediction p : results.get(i)) {
          line.append(String.format("%s (%.4f)  ", p.label(), p.score()));
        }
        System.out.println(line.toString().strip() + "\t" + texts.get(i));
      }
      return 0;
    }
  }
}
