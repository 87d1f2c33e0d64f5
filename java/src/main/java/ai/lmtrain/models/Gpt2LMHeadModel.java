package ai.lmtrain.models;

import ai.lmtrain.layers.KvCache;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.layers.PreLnBlock;
import ai.lmtrain.tensor.Arena;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * GPT-2 with its language-model head, as Hugging Face's {@code GPT2LMHeadModel}:
 * <pre>
 *   h = {@link Gpt2Body}(ids, attention mask)                              (B*T, E)
 *   logits = h W^T             (no bias; W = wte, or lm_head.weight (V, E) with tie_word_embeddings false)
 * </pre>
 * Shapes: ids (B, T) -> logits (B*T, V), computed only at the positions that need them (see
 * {@link TransformerLanguageModel}).
 */
public final class Gpt2LMHeadModel extends TransformerLanguageModel {
  /** The untied output projection's name (tie_word_embeddings false). */
  static final String LM_HEAD = "lm_head.weight";

  private final Gpt2Config config;
  private final Gpt2Body body;

  /** A model with zeroed parameters; call {@link #initialize} or load weights. */
  public Gpt2LMHeadModel(Gpt2Config config, Backend backend, DType computeType) {
    super(backend, table(config), computeType, config.vocabSize(), config.nPositions(),
        config.tieWordEmbeddings() ? Gpt2Body.WTE : LM_HEAD, null);
    this.config = config;
    body = new Gpt2Body(config);
  }

  /**
   * The parameter layout, Hugging Face names: the body's, and lm_head.weight (V, E) when not tied to
   * wte, stored like wte with {@code paddedVocabSize(V)} rows.
   */
  public static ParameterTable table(Gpt2Config c) {
    ParameterTable t = new ParameterTable();
    Gpt2Body.addParameters(t, c);
    if (!c.tieWordEmbeddings()) {
      t.addPadded(LM_HEAD, true, paddedVocabSize(c.vocabSize()), c.vocabSize(), c.nEmbd());
    }
    return t;
  }

  public Gpt2Config config() {
    return config;
  }

  @Override
  public String modelType() {
    return "gpt2";
  }

  @Override
  public String configJson() {
    return config.toJson();
  }

  @Override
  protected Tensor body(Pass pass, ModelInput in) {
    return body.forward(pass, upload(pass, in, false, 0), in.batch(), in.seqLen());
  }

  /** The head has no layers of its own before the output projection (the body ends with ln_f). */
  @Override
  protected Tensor headFeatures(Pass pass, Tensor rows) {
    return rows;
  }

  @Override
  protected Tensor headFeaturesBackward(Pass pass, Tensor dfeatures) {
    return dfeatures;
  }

  @Override
  protected void bodyBackward(Pass pass, Tensor dhidden) {
    body.backward(pass, dhidden);
  }

  /**
   * Starts incremental decoding of one sequence of at most {@code capacity} positions (at most
   * n_positions): each {@link Decoding#feed} runs only the new tokens through the model, attending
   * over the cached keys and values of the earlier ones.
   */
  public Decoding startDecoding(int capacity) {
    if (capacity <= 0 || capacity > config.nPositions()) {
      throw new IllegalArgumentException("decoding capacity must be in [1, " + config.nPositions() + "] (got "
          + capacity + ")");
    }
    return new Decoding(capacity);
  }

  /** The state of one incremental decoding: a {@link KvCache} per block. */
  public final class Decoding implements AutoCloseable {
    private final List<KvCache> caches = new ArrayList<>();
    private int length;

    private Decoding(int capacity) {
      for (int i = 0; i < body.blocks().size(); i++) {
        caches.add(new KvCache(store.backend(), capacity, 3 * config.nEmbd(), store.computeType()));
      }
    }

    /** Positions decoded so far. */
    public int length() {
      return length;
    }

    /** Feeds {@code newIds} (at least one) and returns the next-token logits (V) after the last of them. */
    public float[] feed(Arena arena, int[] newIds) {
      if (newIds.length == 0) {
        throw new IllegalArgumentException("feed needs at least one token id");
      }
      arena.reset();
      Pass pass = Pass.inference(store, arena);
      int n = newIds.length;
      int e = config.nEmbd();
      Inputs in = upload(pass, ModelInput.of(newIds), false, length);
      Tensor embedded = pass.activation(1, n, e);
      pass.backend().embeddingForward(embedded, in.ids(), null, store.param(Gpt2Body.WTE), store.param(Gpt2Body.WPE),
          null, length);
      Tensor x = embedded.view(n, e);
      List<PreLnBlock> blocks = body.blocks();
      for (int i = 0; i < blocks.size(); i++) {
        x = blocks.get(i).forwardCached(pass, x, caches.get(i));
      }
      length += n;
      return headLogits(pass, body.finalNorm().forward(pass, x.slice((long) (n - 1) * e, 1, e)))[0];
    }

    @Override
    public void close() {
      caches.forEach(KvCache::close);
    }
  }

  @Override
  public int[] lossLabels(ModelInput in) {
    if (in.labels() == null) {
      throw new IllegalArgumentException("labels are required to compute a loss");
    }
    int[] shifted = new int[in.positions()];
    Arrays.fill(shifted, ModelInput.IGNORE_INDEX);
    for (int b = 0; b < in.batch(); b++) {
      int row = b * in.seqLen();
      System.arraycopy(in.labels(), row + 1, shifted, row, in.seqLen() - 1);
    }
    return shifted;
  }

  @Override
  public void initialize(long seed) {
    initializeWith(seed, Gpt2Body.initializer(config, store.table()));
  }

  @Override
  public String parameterNameFor(String key) {
    return parameterName(config, key);
  }

  /** {@link #parameterNameFor} without a model: the parameter a checkpoint key fills, or null. */
  static String parameterName(Gpt2Config config, String key) {
    String k = Gpt2Body.parameterName(key);
    if (k == null || (k.equals(LM_HEAD) && config.tieWordEmbeddings()) || k.startsWith("score.")) {
      return null; // tied to wte, a causal-mask buffer, or another head
    }
    return k;
  }
}
