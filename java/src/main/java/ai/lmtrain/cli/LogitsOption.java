package ai.lmtrain.cli;

import ai.lmtrain.infer.SequenceLogits;
import ai.lmtrain.models.LanguageModel;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * The {@code --logits} option of fill-mask and next-token: adds every position's raw logits to the
 * {@code --json} object, so that another implementation (transformers) can be compared with ours
 * number for number.
 */
final class LogitsOption {
  @Option(names = "--logits", description = "with --json: also print \"tokens\" (the ids the model saw) and "
      + "\"logits\", one row of vocab_size raw logits per token (the model's logits[0] in transformers)")
  boolean enabled;

  /** A usage error (exit 2) when --logits comes without --json. */
  void checkUsage(CommandSpec spec, boolean json) {
    if (enabled && !json) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--logits needs --json (the logits are printed "
          + "in the JSON object)");
    }
  }

  /** With --logits, puts "tokens" and "logits" of {@code ids} into {@code out}. */
  void addTo(Map<String, Object> out, LanguageModel model, int[] ids) {
    if (enabled) {
      out.put("tokens", ids);
      out.put("logits", SequenceLogits.of(model, ids));
    }
  }
}
