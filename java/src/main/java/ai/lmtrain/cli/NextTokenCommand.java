package ai.lmtrain.cli;

import ai.lmtrain.infer.Generator;
import ai.lmtrain.infer.TopK;
import ai.lmtrain.models.Gpt2LMHeadModel;
import ai.lmtrain.models.LanguageModel;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lmtrain next-token}: the most likely next tokens after a prompt, with probabilities (GPT-2). */
@Command(name = "next-token", mixinStandardHelpOptions = true,
    description = "Show the most likely next tokens after a prompt and their probabilities (GPT-2 models).")
final class NextTokenCommand implements Callable<Integer> {
  @Mixin LoadedModel model;

  @Option(names = "--text", required = true, description = "the prompt")
  String text;

  @Option(names = "--top-k", defaultValue = "10", description = "tokens to show (default: ${DEFAULT-VALUE})")
  int topK;

  @Option(names = "--json", description = "print one JSON object {\"text\", \"tokens\", \"next\":[{token, token_str, probability}]}")
  boolean json;

  @Mixin LogitsOption logits;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Flags.inRange(spec, "--top-k", topK, 1, Integer.MAX_VALUE);
    logits.checkUsage(spec, json);
    try (LoadedModel.Open<LanguageModel> open = model.open()) {
      Gpt2LMHeadModel gpt2 = GenerateCommand.causal(open, model);
      int[] ids = GenerateCommand.promptIds(spec, "--text", text, open.tokenizer());
      if (ids.length > gpt2.maxPositions()) {
        throw Flags.usage(spec, "--text has " + ids.length + " tokens but the model takes at most "
            + gpt2.maxPositions() + " positions (n_positions)");
      }
      List<TopK.Candidate> next = new Generator(gpt2).nextTokens(ids, topK);
      if (json) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("text", text);
        out.put("tokens", ids);
        out.put("next", next.stream().map(c -> Map.of("token", c.id(), "token_str", open.tokenizer().decode(
            new int[] {c.id()}), "probability", c.probability())).toList());
        logits.addTo(out, gpt2, ids);
        JsonOut.print(out);
        return 0;
      }
      System.out.println("prompt tokens: " + ids.length);
      for (TopK.Candidate c : next) {
        System.out.printf("  %-20s %.4f%n", "'" + open.tokenizer().decode(new int[] {c.id()}) + "'", c.probability());
      }
      return 0;
    }
  }
}
