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
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * A config's parameter layout, known before anything is allocated: the checks that a weights file
 * fits its config.json and that a model fits the device's memory run on it, so a crafted or
 * mismatched folder fails with one clear message instead of allocating first.
 */
public final class ParameterLayouts {
  private ParameterLayouts() {}

  /**
   * The parameters a model class allocates for a config, and which of them a checkpoint key fills.
   *
   * @param config the architecture
   * @param table the (name, shape) table; nothing is allocated
   * @param parameterNameFor the parameter a checkpoint key of a Hugging Face file fills, or null for
   *     keys the model does not hold (tied copies, buffers, other heads)
   */
  public record Layout(ModelConfig config, ParameterTable table, UnaryOperator<String> parameterNameFor) {}

  /** The layout of {@code config}'s language model (BertForMaskedLM / its pre-LN form, GPT2LMHeadModel). */
  public static Layout languageModel(ModelConfig config) {
    if (config instanceof BertConfig bert) {
      return new Layout(bert, BertForMaskedLM.table(bert), key -> BertForMaskedLM.parameterName(bert, key));
    }
    Gpt2Config gpt2 = (Gpt2Config) config;
    return new Layout(gpt2, Gpt2LMHeadModel.table(gpt2), key -> Gpt2LMHeadModel.parameterName(gpt2, key));
  }

  /** The layout of BERT with both pre-training heads ({@link BertForPreTraining}). */
  public static Layout preTraining(BertConfig config) {
    return new Layout(config, BertForPreTraining.table(config), key -> BertForPreTraining.parameterName(config, key));
  }

  /** The (name, shape) table {@code config}'s language model allocates; nothing is allocated. */
  public static ParameterTable table(ModelConfig config) {
    return languageModel(config).table();
  }

  /**
   * The masked-LM output bias and the decoder's bias of BertLMPredictionHead and of RobertaLMHead
   * (output bias, decoder bias).
   */
  private static final List<String[]> OUTPUT_BIAS_ALIASES = List.of(
      new String[] {"cls.predictions.bias", "cls.predictions.decoder.bias"},
      new String[] {"lm_head.bias", "lm_head.decoder.bias"});

  /**
   * The file keys that fill a parameter of {@code table} in place of its own name: the masked-LM
   * output bias is read from the decoder's bias wherever the file has one. That is the bias
   * transformers adds in its forward: transformers 4 kept the two as one tensor, and transformers 5
   * ties them only with tie_word_embeddings true, so a file of an untied head may hold both with
   * different values (the output bias then unused).
   *
   * @param inFile whether the file holds a key
   * @return parameter name to file key
   */
  public static Map<String, String> outputBiasSources(ParameterTable table, Predicate<String> inFile) {
    Map<String, String> sources = new LinkedHashMap<>();
    for (String[] alias : OUTPUT_BIAS_ALIASES) {
      if (inFile.test(alias[1]) && table.contains(alias[0])) {
        sources.put(alias[0], alias[1]);
      }
    }
    return sources;
  }

  /**
   * Which tensor of a weights file fills each parameter of {@code table}, checked against the file's
   * header: every tensor maps to a parameter of this model with the right shape, and every
   * parameter is filled (BERT's output bias from the decoder's bias where the file has it, see
   * {@link #outputBiasSources}).
   *
   * @param tensorShapes the weights file's tensors (name to shape), from its header
   * @return parameter name to checkpoint key, in table order
   * @throws FileFormatException naming {@code weightsFile}, for a foreign tensor, a shape other than
   *     {@code configFile} describes, or missing parameters
   */
  public static Map<String, String> match(Layout layout, Map<String, long[]> tensorShapes, Path weightsFile,
      Path configFile) throws FileFormatException {
    ModelConfig config = layout.config();
    ParameterTable table = layout.table();
    Map<String, String> keys = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> t : tensorShapes.entrySet()) {
      String name = layout.parameterNameFor().apply(t.getKey());
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
    for (Map.Entry<String, String> source : outputBiasSources(table, tensorShapes::containsKey).entrySet()) {
      requireShape(table.get(source.getKey()), source.getValue(), tensorShapes.get(source.getValue()), weightsFile,
          configFile);
      keys.put(source.getKey(), source.getValue());
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
