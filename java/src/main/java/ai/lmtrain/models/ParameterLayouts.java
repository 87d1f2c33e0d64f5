package ai.lmtrain.models;

import ai.lmtrain.io.FileFormatException;
import ai.lmtrain.tensor.ParameterTable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A config's parameter layout, known before anything is allocated: the checks that a weights file
 * fits its config.json and that a model fits the device's memory run on it, so a crafted or
 * mismatched folder fails with one clear message instead of allocating first.
 */
public final class ParameterLayouts {
  private ParameterLayouts() {}

  /** The (name, shape) table {@code config}'s model allocates; nothing is allocated. */
  public static ParameterTable table(ModelConfig config) {
    return config instanceof BertConfig bert ? BertForMaskedLM.table(bert) : Gpt2LMHeadModel.table((Gpt2Config) config);
  }

  /** The parameter a checkpoint key of a Hugging Face file fills in {@code config}'s model, or null. */
  public static String parameterNameFor(ModelConfig config, String checkpointKey) {
    return config instanceof BertConfig ? BertForMaskedLM.parameterName(checkpointKey)
        : Gpt2LMHeadModel.parameterName(checkpointKey);
  }

  /**
   * Which tensor of a weights file fills each parameter of {@code table}, checked against the file's
   * header: every tensor maps to a parameter of this model with the right shape, and every
   * parameter is filled (BERT's output bias may be stored under its tied alias).
   *
   * @param tensorShapes the weights file's tensors (name to shape), from its header
   * @return parameter name to checkpoint key, in table order
   * @throws FileFormatException naming {@code weightsFile}, for a foreign tensor, a shape other than
   *     {@code configFile} describes, or missing parameters
   */
  public static Map<String, String> match(ModelConfig config, ParameterTable table, Map<String, long[]> tensorShapes,
      Path weightsFile, Path configFile) throws FileFormatException {
    Map<String, String> keys = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> t : tensorShapes.entrySet()) {
      String name = parameterNameFor(config, t.getKey());
      if (name == null) {
        continue;
      }
      if (!table.contains(name)) {
        throw new FileFormatException(weightsFile, "tensor '" + t.getKey() + "' is not a parameter of this "
            + config.modelType() + " model (does config.json match the weights?)");
      }
      requireShape(table.get(name), t.getKey(), t.getValue(), weightsFile, configFile);
      keys.put(name, t.getKey());
    }
    String aliasedBias = "cls.predictions.decoder.bias";
    if (!keys.containsKey("cls.predictions.bias") && tensorShapes.containsKey(aliasedBias)
        && table.contains("cls.predictions.bias")) {
      requireShape(table.get("cls.predictions.bias"), aliasedBias, tensorShapes.get(aliasedBias), weightsFile,
          configFile);
      keys.put("cls.predictions.bias", aliasedBias);
    }
    List<String> missing = new ArrayList<>();
    Map<String, String> ordered = new LinkedHashMap<>();
    for (ParameterTable.Entry e : table.entries()) {
      if (keys.containsKey(e.name())) {
        ordered.put(e.name(), keys.get(e.name()));
      } else {
        missing.add(e.name());
      }
    }
    if (!missing.isEmpty()) {
      throw new FileFormatException(weightsFile, "missing " + missing.size() + " parameter(s): "
          + String.join(", ", missing.subList(0, Math.min(5, missing.size()))) + (missing.size() > 5 ? ", ..." : "")
          + (missing.size() > 5 ? " (" + configFile + " describes " + table.entries().size()
              + " parameter tensors; does it match the weights?)" : ""));
    }
    return ordered;
  }

  /**
   * Checks that a model of {@code config} fits the device before it is allocated.
   *
   * @param bytesPerElement bytes each parameter element needs (weights, gradients, optimizer state)
   * @param memoryBytes the device's memory, or a negative number when unknown (no check)
   * @throws IllegalArgumentException naming the config's size keys, the bytes needed and the memory
   */
  public static void requireFits(ModelConfig config, ParameterTable table, long bytesPerElement, long memoryBytes,
      String device) {
    long needed;
    try {
      needed = Math.multiplyExact(table.totalElements(), bytesPerElement);
    } catch (ArithmeticException e) {
      needed = Long.MAX_VALUE;
    }
    if (memoryBytes >= 0 && needed > memoryBytes) {
      throw new IllegalArgumentException(String.format(Locale.ROOT, "this %s model (%s) has %,d parameters, which"
          + " need %s for weights, gradients and optimizer state, more than the %s of %s", config.modelType(),
          sizeKeys(config), table.parameterCount(), gib(needed), gib(memoryBytes), device));
    }
  }

  private static void requireShape(ParameterTable.Entry entry, String key, long[] shape, Path weightsFile,
      Path configFile) throws FileFormatException {
    if (!Arrays.equals(entry.shape(), shape)) {
      throw new FileFormatException(weightsFile, "tensor '" + key + "' has shape " + Arrays.toString(shape)
          + " but " + configFile.getFileName() + " needs " + Arrays.toString(entry.shape()));
    }
  }

  /** The config keys that set the model's size, for messages. */
  static String sizeKeys(ModelConfig config) {
    if (config instanceof BertConfig b) {
      return "vocab_size " + b.vocabSize() + ", hidden_size " + b.hiddenSize() + ", num_hidden_layers "
          + b.numHiddenLayers() + ", intermediate_size " + b.intermediateSize() + ", max_position_embeddings "
          + b.maxPositionEmbeddings();
    }
    Gpt2Config g = (Gpt2Config) config;
    return "vocab_size " + g.vocabSize() + ", n_embd " + g.nEmbd() + ", n_layer " + g.nLayer() + ", n_inner "
        + g.innerSize() + ", n_positions " + g.nPositions();
  }

  private static String gib(long bytes) {
    return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
  }
}
