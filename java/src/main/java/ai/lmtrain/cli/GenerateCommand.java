package ai.lmtrain.cli;

import ai.lmtrain.infer.Generator;
import ai.lmtrain.infer.SamplingConfig;
import ai.lmtrain.models.Gpt2LMHeadModel;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.tokenizers.EncodeOptions;
import ai.lmtrain.tokenizers.Tokenizer;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lmtrain generate}: continue a prompt with a GPT-2 model, greedy or sampled. */
@Command(name = "generate", mixinStandardHelpOptions = true, description = "Continue a prompt with a GPT-2 model.")
final class GenerateCommand implements Callable<Integer> {
  @Mixin LoadedModel model;

  @Option(names = "--prompt", required = true, description = "the text to continue")
  String prompt;

  @Option(names = "--max-new-tokens", defaultValue = "30", description = "tokens to generate at most (default: ${DEFAULT-VALUE})")
  int maxNewTokens;

  @Option(names = "--do-sample", description = "sample instead of greedy decoding")
  boolean doSample;

  @Option(names = "--temperature", defaultValue = "1.0", description = "sampling temperature (default: ${DEFAULT-VALUE})")
  float temperature;

  @Option(names = "--top-k", defaultValue = "50", description = "keep the k most likely tokens when sampling; 0 disables (default: ${DEFAULT-VALUE})")
  int topK;

  @Option(names = "--top-p", defaultValue = "1.0", description = "nucleus sampling threshold; 1 disables (default: ${DEFAULT-VALUE})")
  float topP;

  @Option(names = "--repetition-penalty", defaultValue = "1.0", description = "penalty for repeated tokens; 1 disables (default: ${DEFAULT-VALUE})")
  float repetitionPenalty;

  @Option(names = "--seed", defaultValue = "42", description = "sampling seed (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--json", description = "print one JSON object {\"prompt\", \"generated_text\", \"token_ids\", \"new_tokens\"}")
  boolean json;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Flags.inRange(spec, "--max-new-tokens", maxNewTokens, 0, Integer.MAX_VALUE);
    Flags.inRange(spec, "--temperature", temperature, 0, false, Float.MAX_VALUE, true);
    Flags.inRange(spec, "--top-k", topK, 0, Integer.MAX_VALUE);
    Flags.inRange(spec, "--top-p", topP, 0, false, 1, true);
    Flags.inRange(spec, "--repetition-penalty", repetitionPenalty, 0, false, Float.MAX_VALUE, true);
    SamplingConfig sampling = new SamplingConfig(doSample, temperature, topK, topP, repetitionPenalty, seed);
    try (LoadedModel.Open<LanguageModel> open = model.open()) {
      Gpt2LMHeadModel gpt2 = causal(open, model);
      Tokenizer tokenizer = open.tokenizer();
      int[] ids = promptIds(spec, "--prompt", prompt, tokenizer);
      if ((long) ids.length + maxNewTokens > gpt2.maxPositions()) {
        throw Flags.usage(spec, "--max-new-tokens " + maxNewTokens + " is too many: the prompt has " + ids.length
            + " tokens and the model takes " + gpt2.maxPositions() + " positions (n_positions), so at most "
            + Math.max(0, gpt2.maxPositions() - ids.length) + " new tokens fit");
      }
      int eos = gpt2.config().eosTokenId() == null ? -1 : gpt2.config().eosTokenId();
      int[] out = new Generator(gpt2).generate(ids, maxNewTokens, sampling, eos, true);
      String text = tokenizer.decode(out, true);
      if (json) {
        JsonOut.print(Map.of("prompt", prompt, "generated_text", text, "token_ids", out, "new_tokens",
            out.length - ids.length));
      } else {
        System.out.println(text);
      }
      return 0;
    }
  }

  /** The ids of a prompt flag's text (no special tokens); an error naming the flag when there are none. */
  static int[] promptIds(CommandSpec spec, String flag, String text, Tokenizer tokenizer) {
    int[] ids = tokenizer.encode(text, EncodeOptions.defaults().withAddSpecialTokens(false)).ids();
    if (ids.length == 0) {
      throw Flags.usage(spec, flag + " '" + text + "' gives no token (expected text to continue)");
    }
    return ids;
  }

  /** The loaded model as GPT-2, or a clear error. */
  static Gpt2LMHeadModel causal(LoadedModel.Open<LanguageModel> open, LoadedModel options) {
    if (!(open.model() instanceof Gpt2LMHeadModel gpt2)) {
      throw new IllegalArgumentException(options.dir + " holds a " + open.model().modelType()
          + " model; this command needs a GPT-2 (causal LM) model");
    }
    return gpt2;
  }
}
