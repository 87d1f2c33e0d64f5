package ai.lmtrain.models;

import ai.lmtrain.layers.LmHead;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.ParameterStore;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tensor.Tensor;
import java.util.Arrays;
import java.util.Random;
import java.util.function.BiFunction;

/**
 * What BERT and GPT-2 share: the parameter store, input checks and upload, the initialiser, and the
 * loss and logits passes over their two halves:
 * <pre>
 *   body:  ids (B, T) -> hidden (B*T, E)                  every position (the transformer)
 *   head:  picked rows of hidden (M, E) -> features (M, E) -> logits (M, V) over the tied embedding
 * </pre>
 * The head runs only on the positions that need logits: those that take a loss (gathered with
 * {@link Backend#gatherRows}, and their gradient scattered back), or the ones inference asks for.
 */
abstract class TransformerModel implements LanguageModel {
  protected final ParameterStore store;
  private final int vocabSize;
  private final int maxPositions;
  private final LmHead head;

  /**
   * @param embedding the name of the token embedding, tied to the output projection
   * @param outputBias the name of the output bias, or null
   */
  protected TransformerModel(Backend backend, ParameterTable table, DType computeType, int vocabSize, int maxPositions,
      String embedding, String outputBias) {
    this.store = new ParameterStore(backend, table, computeType);
    this.vocabSize = vocabSize;
    this.maxPositions = maxPositions;
    this.head = new LmHead(embedding, outputBias, vocabSize, paddedVocabSize(vocabSize), ModelInput.IGNORE_INDEX);
  }

  /** The rows of the token embedding in the parameter layout: V rounded up to {@link #VOCAB_PADDING}. */
  static int paddedVocabSize(int vocabSize) {
    return Math.toIntExact(((long) vocabSize + VOCAB_PADDING - 1) / VOCAB_PADDING * VOCAB_PADDING);
  }

  /** Runs the transformer over every position: hidden states (B*T, E), kept for {@link #bodyBackward}. */
  protected abstract Tensor body(Pass pass, ModelInput input);

  /** Accumulates the body's parameter gradients from dhidden (B*T, E). */
  protected abstract void bodyBackward(Pass pass, Tensor dhidden);

  /** The head's layers before the output projection on picked rows (M, E) -> (M, E). */
  protected abstract Tensor headFeatures(Pass pass, Tensor rows);

  /** The backward of {@link #headFeatures}: d(rows) (M, E) from d(features) (M, E). */
  protected abstract Tensor headFeaturesBackward(Pass pass, Tensor dfeatures);

  /**
   * dy (B*T, E) back through layers {@code count - 1} down to 0 ({@code layerBackward(i, dy)} returns
   * layer i's input gradient): each layer's temporaries are released once it is done, so the
   * backward holds one layer's temporaries at a time, plus two (B*T, E) buffers for the gradients
   * passed between layers.
   */
  protected static Tensor backwardLayers(Pass pass, Tensor dy, int count,
      BiFunction<Integer, Tensor, Tensor> layerBackward) {
    Tensor[] between = {pass.activation(dy.shape()), pass.activation(dy.shape())};
    Tensor dx = dy;
    for (int i = count - 1; i >= 0; i--) {
      int layer = i;
      Tensor grad = dx;
      dx = pass.keepingOnly(between[i % 2], () -> layerBackward.apply(layer, grad));
    }
    return dx;
  }

  @Override
  public LossOutput loss(Pass pass, ModelInput input, LossTargets targets) {
    int[] labels = targets.labels();
    if (labels.length != input.positions()) {
      throw new IllegalArgumentException("labels has " + labels.length + " values, expected batch x seq_len = "
          + input.positions());
    }
    int[] rows = scoredRows(labels);
    if (rows.length == 0) {
      throw new IllegalArgumentException("no position takes a loss (every label is " + ModelInput.IGNORE_INDEX + ")");
    }
    Backend backend = pass.backend();
    int[] rowLabels = new int[rows.length];
    float[] rowWeights = targets.rowWeights() == null ? null : new float[rows.length];
    for (int i = 0; i < rows.length; i++) {
      rowLabels[i] = labels[rows[i]];
      if (rowWeights != null) {
        rowWeights[i] = targets.rowWeights()[rows[i]];
      }
    }
    Tensor labelTensor = pass.scratch(DType.I32, rows.length);
    backend.upload(labelTensor, rowLabels);
    Tensor weightTensor = null;
    if (rowWeights != null) {
      weightTensor = pass.scratch(DType.F32, rows.length);
      backend.upload(weightTensor, rowWeights);
    }
    Tensor index = uploadIndex(pass, rows, input.positions());
    Tensor hidden = body(pass, input);
    Tensor features = headFeatures(pass, pick(pass, hidden, index));
    LmHead.Loss out = head.loss(pass, features, labelTensor, weightTensor, targets.gradScale(), targets.backward(),
        targets.predictions());
    if (targets.backward()) {
      Tensor dpicked = headFeaturesBackward(pass, out.dh());
      Tensor dhidden = dpicked;
      if (index != null) {
        dhidden = pass.activation(hidden.shape());
        backend.gatherRowsBackward(dhidden, dpicked, index);
      }
      bodyBackward(pass, dhidden);
    }
    return new LossOutput(out.lossSum(), out.predictions());
  }

  @Override
  public float[][] logits(Pass pass, ModelInput input, int[] positions) {
    for (int i = 0; i < positions.length; i++) {
      if (positions[i] < 0 || positions[i] >= input.positions() || (i > 0 && positions[i] <= positions[i - 1])) {
        throw new IllegalArgumentException("logit positions must be strictly increasing in [0, "
            + input.positions() + "), got " + Arrays.toString(positions));
      }
    }
    if (positions.length == 0) {
      return new float[0][];
    }
    Tensor index = uploadIndex(pass, positions, input.positions());
    return headLogits(pass, pick(pass, body(pass, input), index));
  }

  /** The logits (V floats each) of hidden-state rows (M, E) that the body produced. */
  protected float[][] headLogits(Pass pass, Tensor rows) {
    return head.logits(pass, headFeatures(pass, rows));
  }

  @Override
  public void setLogitsChunkBytes(long bytes) {
    head.setChunkBytes(bytes);
  }

  /** The positions whose label is not ignored, in order. */
  private static int[] scoredRows(int[] labels) {
    int n = 0;
    for (int label : labels) {
      n += label == ModelInput.IGNORE_INDEX ? 0 : 1;
    }
    int[] rows = new int[n];
    for (int i = 0, k = 0; i < labels.length; i++) {
      if (labels[i] != ModelInput.IGNORE_INDEX) {
        rows[k++] = i;
      }
    }
    return rows;
  }

  /** The row index (M) I32 on the device, or null when it picks every one of the {@code positions} rows. */
  private static Tensor uploadIndex(Pass pass, int[] rows, int positions) {
    if (rows.length == positions) {
      return null; // strictly increasing in [0, positions): all of them, in order
    }
    Tensor index = pass.scratch(DType.I32, rows.length);
    pass.backend().upload(index, rows);
    return index;
  }

  /** The rows of hidden (N, E) that index picks (all of them for a null index). */
  private static Tensor pick(Pass pass, Tensor hidden, Tensor index) {
    if (index == null) {
      return hidden;
    }
    Tensor picked = pass.activation(index.numel(), hidden.dim(-1));
    pass.backend().gatherRows(picked, hidden, index);
    return picked;
  }

  @Override
  public ParameterStore parameters() {
    return store;
  }

  @Override
  public int vocabSize() {
    return vocabSize;
  }

  @Override
  public int maxPositions() {
    return maxPositions;
  }

  @Override
  public void close() {
    store.close();
  }

  /** Device tensors of one batch's inputs. */
  protected record Inputs(Tensor ids, Tensor typeIds, Tensor keyMask) {}

  /**
   * Checks ids and length against the model (clear errors naming the position) and uploads them.
   * {@code positionOffset} is where the sequence starts in the position table (KV-cache decoding).
   */
  protected Inputs upload(Pass pass, ModelInput in, boolean withTypes, long positionOffset) {
    if (positionOffset + in.seqLen() > maxPositions) {
      throw new IllegalArgumentException("sequence length " + (positionOffset + in.seqLen())
          + " exceeds the model's maximum of " + maxPositions + " positions (max_position_embeddings / n_positions)");
    }
    int[] ids = in.inputIds();
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= vocabSize) {
        throw new IllegalArgumentException("token id " + ids[i] + " at batch " + i / in.seqLen() + ", position "
            + i % in.seqLen() + " is out of range for vocab_size " + vocabSize);
      }
    }
    Backend backend = pass.backend();
    Tensor idTensor = pass.scratch(DType.I32, in.batch(), in.seqLen());
    backend.upload(idTensor, ids);
    Tensor types = null;
    if (withTypes) {
      types = pass.scratch(DType.I32, in.batch(), in.seqLen());
      backend.upload(types, in.tokenTypeIds() == null ? new int[ids.length] : in.tokenTypeIds());
    }
    Tensor mask = null;
    if (in.attentionMask() != null && Arrays.stream(in.attentionMask()).anyMatch(m -> m == 0)) {
      mask = pass.scratch(DType.I32, in.batch(), in.seqLen());
      backend.upload(mask, in.attentionMask());
    }
    return new Inputs(idTensor, types, mask);
  }

  /**
   * Fills every parameter: {@code init} decides each entry's values (its checkpoint rows; padding
   * rows stay zero) from the shared generator, a block of whole rows at a time (about
   * {@link #INIT_BLOCK} values: an embedding of 50257 x 768 never exists as one Java array).
   */
  protected void initializeWith(long seed, Initializer init) {
    Random random = new Random(seed);
    for (ParameterTable.Entry e : store.table().entries()) {
      long rows = e.shape()[0];
      long rowElements = e.numel() / rows;
      long blockRows = Math.max(1, INIT_BLOCK / rowElements);
      for (long first = 0; first < rows; first += blockRows) {
        float[] values = new float[Math.toIntExact(Math.min(blockRows, rows - first) * rowElements)];
        init.fill(e, first, values, random);
        store.setMaster(e.name(), first * rowElements, values);
      }
    }
  }

  /** Values per block of {@link #initializeWith}. */
  private static final long INIT_BLOCK = 1 << 20;

  /** How one parameter entry is initialised. */
  @FunctionalInterface
  protected interface Initializer {
    /** Fills {@code values}: whole rows of {@code entry} from row {@code firstRow} on, drawn in order. */
    void fill(ParameterTable.Entry entry, long firstRow, float[] values, Random random);
  }

  /** values ~ N(0, std). */
  protected static void normal(float[] values, Random random, double std) {
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (random.nextGaussian() * std);
    }
  }

  /** True for LayerNorm weights (initialised to 1). */
  protected static boolean isNormWeight(String name) {
    return name.endsWith("LayerNorm.weight") || name.matches(".*\\.ln_[12f]\\.weight");
  }

  /** Maps legacy LayerNorm names (gamma/beta) to weight/bias. */
  protected static String modernNormNames(String key) {
    if (key.endsWith(".gamma")) {
      return key.substring(0, key.length() - 6) + ".weight";
    }
    if (key.endsWith(".beta")) {
      return key.substring(0, key.length() - 5) + ".bias";
    }
    return key;
  }
}
