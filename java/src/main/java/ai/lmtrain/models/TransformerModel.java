package ai.lmtrain.models;

import ai.lmtrain.layers.Pass;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.ParameterStore;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tensor.Tensor;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.BiFunction;

/**
 * What every BERT and GPT-2 model shares, whatever its head: the parameter store, input checks and
 * upload, the initialiser, the padded vocabulary size, and the layer-by-layer backward.
 */
abstract class TransformerModel implements Model {
  protected final ParameterStore store;
  private final int vocabSize;
  private final int maxPositions;

  protected TransformerModel(Backend backend, ParameterTable table, DType computeType, int vocabSize, int maxPositions) {
    this.store = new ParameterStore(backend, table, computeType);
    this.vocabSize = vocabSize;
    this.maxPositions = maxPositions;
  }

  /** The rows of the token embedding in the parameter layout: V rounded up to {@link #VOCAB_PADDING}. */
  static int paddedVocabSize(int vocabSize) {
    return Math.toIntExact(((long) vocabSize + VOCAB_PADDING - 1) / VOCAB_PADDING * VOCAB_PADDING);
  }

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
    // One array per block size (a handful), zeroed for reuse since initializers leave zero values
    // alone: a new array per block would put the whole model through the Java heap, whose pages
    // then stay resident beside the parameters.
    Map<Integer, float[]> blocks = new HashMap<>();
    for (ParameterTable.Entry e : store.table().entries()) {
      long rows = e.shape()[0];
      long rowElements = e.numel() / rows;
      long blockRows = Math.max(1, INIT_BLOCK / rowElements);
      for (long first = 0; first < rows; first += blockRows) {
        float[] values = blocks.computeIfAbsent(Math.toIntExact(Math.min(blockRows, rows - first) * rowElements),
            float[]::new);
        Arrays.fill(values, 0f);
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
    return name.endsWith("LayerNorm.weight") || name.endsWith("layer_norm.weight")
        || name.matches(".*\\.ln_[12f]\\.weight");
  }

  /** True for LayerNorm biases (initialised to 0). */
  protected static boolean isNormBias(String name) {
    return name.endsWith("LayerNorm.bias") || name.endsWith("layer_norm.bias") || name.matches(".*\\.ln_[12f]\\.bias");
  }

  /**
   * Zeroes the padding_idx row of an embedding named in {@code paddingRows} (nn.Embedding(padding_idx=...))
   * when it falls in {@code values}, the block of whole rows of {@code e} from row {@code firstRow} on.
   */
  protected static void zeroPaddingRow(ParameterTable.Entry e, long firstRow, float[] values,
      Map<String, Integer> paddingRows) {
    Integer row = paddingRows.get(e.name());
    long width = e.shape()[1];
    long inBlock = row == null ? -1 : row - firstRow;
    if (inBlock >= 0 && row < e.shape()[0] && (inBlock + 1) * width <= values.length) {
      Arrays.fill(values, Math.toIntExact(inBlock * width), Math.toIntExact((inBlock + 1) * width), 0f);
    }
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
