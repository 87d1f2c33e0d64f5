package ai.lmtrain.infer;

import ai.lmtrain.layers.Pass;
import ai.lmtrain.models.Gpt2LMHeadModel;
import ai.lmtrain.models.ModelInput;
import ai.lmtrain.tensor.Arena;
import java.util.Arrays;
import java.util.List;

/**
 * Text generation with a GPT-2 model, as Hugging Face's {@code generate()}: greedy or sampled
 * ({@link SamplingConfig}), up to {@code maxNewTokens}, stopping at the end-of-sequence token.
 * Decoding is incremental with a key/value cache by default; {@code useCache = false} re-runs the
 * whole sequence at every step (same tokens, slower; used to check the cache).
 */
public final class Generator {
  private final Gpt2LMHeadModel model;

  public Generator(Gpt2LMHeadModel model) {
    this.model = model;
  }

  /**
   * The prompt followed by at most {@code maxNewTokens} generated ids ({@code eosId} < 0: no stop
   * token). The prompt plus new tokens must fit the model's positions: transformers only warns
   * there, and GPT-2's position table then fails with an index error, so this is an error up front.
   *
   * @throws IllegalArgumentException for an empty prompt, a negative {@code maxNewTokens}, or a
   *     prompt plus new tokens longer than the model's positions (n_positions)
   */
  public int[] generate(int[] prompt, int maxNewTokens, SamplingConfig sampling, int eosId, boolean useCache) {
    if (prompt.length == 0) {
      throw new IllegalArgumentException("the prompt is empty: generation needs at least one token");
    }
    if (maxNewTokens < 0) {
      throw new IllegalArgumentException("max_new_tokens must be >= 0 (got " + maxNewTokens + ")");
    }
    if (prompt.length > model.maxPositions()) {
      throw new IllegalArgumentException("the prompt has " + prompt.length + " tokens but the model takes at most "
          + model.maxPositions() + " positions");
    }
    if ((long) prompt.length + maxNewTokens > model.maxPositions()) {
      throw new IllegalArgumentException("the prompt has " + prompt.length + " tokens, so max_new_tokens can be at"
          + " most " + (model.maxPositions() - prompt.length) + " for the model's " + model.maxPositions()
          + " positions (n_positions); got " + maxNewTokens);
    }
    int capacity = prompt.length + maxNewTokens;
    Sampler sampler = new Sampler(sampling);
    int[] sequence = Arrays.copyOf(prompt, capacity);
    int length = prompt.length;
    try (Arena arena = new Arena(model.parameters().backend(), 1 << 20);
        Gpt2LMHeadModel.Decoding cache = useCache ? model.startDecoding(capacity) : null) {
      float[] logits = useCache ? cache.feed(arena, prompt) : lastLogits(arena, prompt);
      while (length < capacity) {
        int next = sampler.next(logits, Arrays.copyOf(sequence, length));
        sequence[length++] = next;
        if (next == eosId || length == capacity) {
          break;
        }
        logits = useCache ? cache.feed(arena, new int[] {next}) : lastLogits(arena, Arrays.copyOf(sequence, length));
      }
    }
    return Arrays.copyOf(sequence, length);
  }

  /**
   * The {@code k} most likely next tokens after {@code prompt} with their probabilities: the
   * step-by-step view of how a causal model predicts.
   */
  public List<TopK.Candidate> nextTokens(int[] prompt, int k) {
    try (Arena arena = new Arena(model.parameters().backend(), 1 << 20)) {
      return TopK.of(lastLogits(arena, prompt), k);
    }
  }

  /** Logits (V) after the last token of a full forward over {@code ids} (the head runs on that position only). */
  private float[] lastLogits(Arena arena, int[] ids) {
    arena.reset();
    return model.logits(Pass.inference(model.parameters(), arena), ModelInput.of(ids), new int[] {ids.length - 1})[0];
  }
}
