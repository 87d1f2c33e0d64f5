package ai.lmtrain.models;

import ai.lmtrain.layers.Dropout;
import ai.lmtrain.layers.Gpt2Block;
import ai.lmtrain.layers.KvCache;
import ai.lmtrain.layers.LayerNorm;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.tensor.Arena;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.GeluKind;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * GPT-2 with its language-model head, as Hugging Face's {@code GPT2LMHeadModel}:
 * <pre>
 *   x = dropout(wte[ids] + wpe[t])
 *   x = blocks (pre-LN, causal attention, gelu_new) over x          body: (B*T, E)
 *   logits = ln_f(x) wte^T                                   head: lm_head tied to wte, no bias
 * </pre>
 * Shapes: ids (B, T) -> logits (B*T, V), computed only where needed; wte is stored with its
 * vocabulary padded to a multiple of 128 rows.
 */
public final class Gpt2LMHeadModel extends TransformerModel {
  private static final String WTE = "transformer.wte.weight";
  private static final String WPE = "transformer.wpe.weight";

  private final Gpt2Config config;
  private final Dropout embeddingDropout;
  private final List<Gpt2Block> blocks = new ArrayList<>();
  private final LayerNorm finalNorm;
  private Inputs inputs;

  /** A model with zeroed parameters; call {@link #initialize} or load weights. */
  public Gpt2LMHeadModel(Gpt2Config config, Backend backend, DType computeType) {
    super(backend, table(config), computeType, config.vocabSize(), config.nPositions(), WTE, null);
    this.config = config;
    int e = config.nEmbd();
    float eps = (float) config.layerNormEpsilon();
    GeluKind gelu = GeluKind.fromHfName(config.activationFunction());
    embeddingDropout = new Dropout((float) config.embdPdrop());
    for (int i = 0; i < config.nLayer(); i++) {
      blocks.add(new Gpt2Block("transformer.h." + i, e, config.innerSize(), config.nHead(), gelu,
          (float) config.residPdrop(), (float) config.attnPdrop(), eps));
    }
    finalNorm = new LayerNorm("transformer.ln_f", e, eps);
  }

  /** The parameter layout: Hugging Face names; wte stored with {@code paddedVocabSize(V)} rows. */
  public static ParameterTable table(Gpt2Config c) {
    int e = c.nEmbd();
    ParameterTable t = new ParameterTable();
    t.addPadded(WTE, true, paddedVocabSize(c.vocabSize()), c.vocabSize(), e);
    t.add(WPE, true, c.nPositions(), e);
    for (int i = 0; i < c.nLayer(); i++) {
      String p = "transformer.h." + i;
      t.add(p + ".ln_1.weight", false, e);
      t.add(p + ".ln_1.bias", false, e);
      t.add(p + ".attn.c_attn.weight", true, e, 3L * e);
      t.add(p + ".attn.c_attn.bias", false, 3L * e);
      t.add(p + ".attn.c_proj.weight", true, e, e);
      t.add(p + ".attn.c_proj.bias", false, e);
      t.add(p + ".ln_2.weight", false, e);
      t.add(p + ".ln_2.bias", false, e);
      t.add(p + ".mlp.c_fc.weight", true, e, c.innerSize());
      t.add(p + ".mlp.c_fc.bias", false, c.innerSize());
      t.add(p + ".mlp.c_proj.weight", true, c.innerSize(), e);
      t.add(p + ".mlp.c_proj.bias", false, e);
    }
    t.add("transformer.ln_f.weight", false, e);
    t.add("transformer.ln_f.bias", false, e);
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
    inputs = upload(pass, in, false, 0);
    int e = config.nEmbd();
    Tensor embedded = pass.activation(in.batch(), in.seqLen(), e);
    pass.backend().embeddingForward(embedded, inputs.ids(), null, store.param(WTE), store.param(WPE), null, 0);
    Tensor x = embeddingDropout.forward(pass, embedded.view(in.positions(), e));
    for (Gpt2Block block : blocks) {
      x = block.forward(pass, x, in.batch(), in.seqLen(), inputs.keyMask());
    }
    return x;
  }

  @Override
  protected Tensor headFeatures(Pass pass, Tensor rows) {
    return finalNorm.forward(pass, rows);
  }

  @Override
  protected Tensor headFeaturesBackward(Pass pass, Tensor dfeatures) {
    return finalNorm.backward(pass, dfeatures);
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
      for (int i = 0; i < blocks.size(); i++) {
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
      pass.backend().embeddingForward(embedded, in.ids(), null, store.param(WTE), store.param(WPE), null, length);
      Tensor x = embedded.view(n, e);
      for (int i = 0; i < blocks.size(); i++) {
        x = blocks.get(i).forwardCached(pass, x, caches.get(i));
      }
      length += n;
      return headLogits(pass, x.slice((long) (n - 1) * e, 1, e))[0];
    }

    @Override
    public void close() {
      caches.forEach(KvCache::close);
    }
  }

  @Override
  protected void bodyBackward(Pass pass, Tensor dhidden) {
    Tensor dx = backwardLayers(pass, dhidden, blocks.size(), (i, dy) -> blocks.get(i).backward(pass, dy));
    dx = embeddingDropout.backward(pass, dx);
    long[] bte = {inputs.ids().dim(0), inputs.ids().dim(1), config.nEmbd()};
    pass.backend().embeddingBackward(store.grad(WTE), store.grad(WPE), null, dx.view(bte), inputs.ids(), null, 0);
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
    double std = config.initializerRange();
    double projStd = std / Math.sqrt(2.0 * config.nLayer());
    initializeWith(seed, (e, firstRow, values, random) -> {
      String name = e.name();
      if (isNormWeight(name)) {
        Arrays.fill(values, 1f);
      } else if (name.endsWith(".weight")) {
        normal(values, random, name.endsWith("c_proj.weight") ? projStd : std);
      }
    });
  }

  @Override
  public String parameterNameFor(String key) {
    String k = modernNormNames(key);
    if (k.equals("lm_head.weight") || k.endsWith(".attn.bias") || k.endsWith(".attn.masked_bias")) {
      return null; // tied to wte, or causal-mask buffers
    }
    if (!k.startsWith("transformer.")) {
      k = "transformer." + k; // GPT2Model checkpoints have no "transformer." prefix
    }
    return k;
  }
}
