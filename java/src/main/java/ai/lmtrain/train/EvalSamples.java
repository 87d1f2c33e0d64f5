package ai.lmtrain.train;

import ai.lmtrain.infer.FillMask;
import ai.lmtrain.infer.Generator;
import ai.lmtrain.infer.SamplingConfig;
import ai.lmtrain.models.BertForMaskedLM;
import ai.lmtrain.models.Gpt2LMHeadModel;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.tokenizers.EncodeOptions;
import ai.lmtrain.tokenizers.Tokenizer;
import java.util.Arrays;
import java.util.List;

/**
 * What a language model makes of the first validation texts at an evaluation, as markdown for
 * TensorBoard's text dashboard: BERT fills the masked middle word of each text (top 3 with their
 * probabilities), GPT-2 continues each text's first words greedily.
 */
final class EvalSamples {
  private static final int TEXTS = 3;
  private static final int PROMPT_WORDS = 3;
  private static final int NEW_TOKENS = 16;

  private EvalSamples() {}

  /** The samples of {@code model} on the first few of {@code texts}. */
  static String describe(LanguageModel model, Tokenizer tokenizer, List<String> texts) {
    StringBuilder md = new StringBuilder();
    for (String text : texts.subList(0, Math.min(TEXTS, texts.size()))) {
      String[] words = text.strip().split("\\s+");
      if (model instanceof BertForMaskedLM bert && tokenizer.specialTokens().mask() != null) {
        String[] masked = words.clone();
        masked[words.length / 2] = tokenizer.specialTokens().mask();
        String input = String.join(" ", masked);
        md.append("* `").append(input).append("` →");
        for (FillMask.Prediction p : FillMask.predict(bert, tokenizer, input, 3).get(0)) {
          md.append(String.format(" **%s** (%.3f)", p.tokenStr(), p.score()));
        }
        md.append('\n');
      } else if (model instanceof Gpt2LMHeadModel gpt2) {
        String prompt = String.join(" ", Arrays.copyOf(words, Math.min(PROMPT_WORDS, words.length)));
        int[] ids = tokenizer.encode(prompt, EncodeOptions.defaults().withAddSpecialTokens(false)).ids();
        int room = gpt2.maxPositions() - ids.length;
        if (ids.length == 0 || room <= 0) {
          continue;
        }
        int[] out = new Generator(gpt2).generate(ids, Math.min(NEW_TOKENS, room), SamplingConfig.greedy(), -1, true);
        String continuation = tokenizer.decode(Arrays.copyOfRange(out, ids.length, out.length), true);
        md.append("* **").append(prompt).append("**").append(continuation).append('\n');
      }
    }
    return md.toString();
  }
}
