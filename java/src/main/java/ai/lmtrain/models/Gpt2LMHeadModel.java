package ai.lmtrain.models;

import ai.lmtrain.layers.Gpt2Block;
import ai.lmtrain.layers.KvCache;
import ai.lmtrain.layers.Linear;
import ai.lmtrain.layers.Pass;
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
 *   logits = h wte^T                                   (lm_head tied to wte, no bias)
 * </pre>
 * Shapes: ids (B, T) -> logits (B*T, V).
 */
public final class Gpt2LMHeadModel extends TransformerModel implements LanguageModel {
  private final Gpt2Config config;
  private final Gpt2Body body;
  private final Linear lmHead;
  private Tensor normalized;

  /** A model with zeroed parameters; call {@link #initialize} or load weights. */
  public Gpt2LMHeadModel(Gpt2Config config, Backend backend, DType computeType) {
    super(backend, table(config), computeType, config.vocabSize(), config.nPositions());
    this.config = config;
    body = new Gpt2Body(config);
    lmHead = new Linear(Gpt2Body.WTE, null, config.nEmbd(), config.vocabSize(), Linear.Layout.OUT_IN);
  }

  /** The parameter layout, Hugging Face names: the body's (the head is tied to wte). */
  static ParameterTable table(Gpt2Config c) {
    ParameterTable t = new ParameterTable();
    Gpt2Body.addParameters(t, c);
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
  public Tensor forward(Pass pass, ModelInput in) {
    normalized = body.forward(pass, upload(pass, in, false, 0), in.batch(), in.seqLen());
    return lmHead.forward(pass, normalized);
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
      List<Gpt2Block> blocks = body.blocks();
      for (int i = 0; i < blocks.size(); i++) {
        x = blocks.get(i).forwardCached(pass, x, caches.get(i));
      }
      length += n;
      Tensor last = x.view((long) n * e).slice((long) (n - 1) * e, 1, e);
      return pass.backend().downloadFloats(lmHead.forward(pass, body.finalNorm().forward(pass, last)));
    }

    @Override
    public void close() {
      caches.forEach(KvCache::close);
    }
  }

  @Override
  public void backward(Pass pass, Tensor dlogits) {
    body.backward(pass, lmHead.backward(pass, dlogits, normalized, true));
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
    initializeWith(seed, Gpt2Body.initializer(config));
  }

  @Override
  public String parameterNameFor(String key) {
    return parameterName(key);
  }

  /** {@link #parameterNameFor} without a model: the parameter a checkpoint key fills, or null. */
  static String parameterName(String key) {
    String k = Gpt2Body.parameterName(key);
    if (k == null || k.equals("lm_head.weight") || k.startsWith("score.")) {
      return null; // tied to wte, a causal-mask buffer, or another head
    }
    return k;
  }
}
