package ai.lmtrain.cli;

import ai.lmtrain.infer.FillMask;
import ai.lmtrain.models.BertForMaskedLM;
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

/** {@code lmtrain fill-mask}: top-k predictions for each [MASK] of a text (BERT models). */
@Command(name = "fill-mask", mixinStandardHelpOptions = true, description = "Predict the [MASK] tokens of a text with a BERT model.")
final class FillMaskCommand implements Callable<Integer> {
  @Mixin LoadedModel model;

  @Option(names = "--text", required = true, description = "text with one or more [MASK] tokens")
  String text;

  @Option(names = "--top-k", defaultValue = "5", description = "predictions per mask (default: ${DEFAULT-VALUE})")
  int topK;

  @Option(names = "--json", description = "print one JSON object {\"text\":..., \"masks\":[[{score, token, token_str, sequence}...]...]}")
  boolean json;

  @Mixin LogitsOption logits;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Flags.inRange(spec, "--top-k", topK, 1, Integer.MAX_VALUE);
    logits.checkUsage(spec, json);
    try (LoadedModel.Open<LanguageModel> open = model.open()) {
      if (!(open.model() instanceof BertForMaskedLM bert)) {
        throw new IllegalArgumentException(model.dir + " holds a " + open.model().modelType()
            + " model; fill-mask needs a BERT (masked LM) model");
      }
      List<List<FillMask.Prediction>> masks = FillMask.predict(bert, open.tokenizer(), text, topK);
      if (json) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("text", text);
        out.put("masks", masks.stream().map(m -> m.stream().map(p -> Map.of("score", p.score(), "token", p.token(),
            "token_str", p.tokenStr(), "sequence", p.sequence())).toList()).toList());
        logits.addTo(out, bert, open.tokenizer().encode(text).ids());
        JsonOut.print(out);
        return 0;
      }
      for (int i = 0; i < masks.size(); i++) {
        System.out.printf("mask %d of %d:%n", i + 1, masks.size());
        for (FillMask.Prediction p : masks.get(i)) {
          System.out.printf("  %-15s %.4f  %s%n", p.tokenStr(), p.score(), p.sequence());
        }
      }
      return 0;
    }
  }
}
