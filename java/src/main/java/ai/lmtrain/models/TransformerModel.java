package ai.lmtrain.models;

import ai.lmtrain.layers.Pass;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.ParameterStore;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tensor.Tensor;
import java.util.Arrays;
import java.util.Random;

/**
 * What BERT and GPT-2 share: the parameter store, input checks and upload, and the initialiser.
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

  /** Fills every parameter: {@code init} decides each entry's values from the shared generator. */
  protected void initializeWith(long seed, Initializer init) {
    Random random = new Random(seed);
    for (ParameterTable.Entry e : store.table().entries()) {
      float[] values = new float[Math.toIntExact(e.numel())];
      init.fill(e, values, random);
      store.setMaster(e.name(), values);
    }
  }

  /** How one parameter entry is initialised. */
  @FunctionalInterface
  protected interface Initializer {
    void fill(ParameterTable.Entry entry, float[] values, Random random);
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
