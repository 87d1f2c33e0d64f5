package ai.lmtrain.train;

import ai.lmtrain.data.LoaderState;
import ai.lmtrain.io.AtomicFiles;
import ai.lmtrain.io.CheckpointWriter;
import ai.lmtrain.io.FileFormatException;
import ai.lmtrain.io.JsonFields;
import ai.lmtrain.io.SafeTensors;
import ai.lmtrain.io.SafeTensorsFile;
import ai.lmtrain.io.SafeTensorsValidator;
import ai.lmtrain.io.StrictJson;
import ai.lmtrain.io.TensorData;
import ai.lmtrain.models.BertConfig;
import ai.lmtrain.models.BertForMaskedLM;
import ai.lmtrain.models.BertForPreTraining;
import ai.lmtrain.models.Gpt2Config;
import ai.lmtrain.models.Gpt2LMHeadModel;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.MaskedLanguageModel;
import ai.lmtrain.models.Model;
import ai.lmtrain.models.ModelConfig;
import ai.lmtrain.models.ModelConfigs;
import ai.lmtrain.models.ParameterLayouts;
import ai.lmtrain.models.SequenceClassification;
import ai.lmtrain.models.SequenceClassifier;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.ParameterStore;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tensor.Tensor;
import ai.lmtrain.tokenizers.Tokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Model folders in the Hugging Face layout ({@code model.safetensors}, {@code config.json},
 * {@code tokenizer.json} and the legacy vocabulary files), and resumable training checkpoints
 * (the same plus {@code optimizer.safetensors} and {@code trainer_state.json}). Every folder is
 * written atomically: a crash during a save leaves the previous folder intact.
 */
public final class Checkpoints {
  public static final String WEIGHTS_FILE = "model.safetensors";
  public static final String OPTIMIZER_FILE = "optimizer.safetensors";
  public static final String STATE_FILE = "trainer_state.json";

  private static final ObjectMapper JSON = StrictJson.MAPPER;

  private Checkpoints() {}

  /**
   * Replaces the folder {@code dir} atomically with the model (F32 master weights, tied copies
   * omitted, the copies of {@link Model#savedCopies} added), its config and the tokenizer.
   */
  public static void saveModel(Path dir, Model model, Tokenizer tokenizer) throws IOException {
    CheckpointWriter.write(dir, folder -> writeModelFiles(folder, model, tokenizer));
  }

  /**
   * Writes the model files into {@code dir} next to whatever else it holds (a run's output folder
   * keeps its checkpoint/, best/ and metrics); each file is replaced atomically.
   */
  public static void saveModelFiles(Path dir, Model model, Tokenizer tokenizer) throws IOException {
    Files.createDirectories(dir);
    writeModelFiles(dir, model, tokenizer);
  }

  /**
   * Writes a resumable checkpoint: the model files, optimizer moments and trainer state. The moments
   * are two flat F32 vectors in the layout of {@link ParameterTable#withoutPadding()} (every
   * parameter with its checkpoint shape, 64-element aligned), the layout checkpoints had before the
   * vocabulary was padded, so those resume too.
   *
   * @param data what the run trains on, recorded for {@code --resume} to check, or null (fine-tuning)
   */
  public static void saveTraining(Path dir, Trainer trainer, Tokenizer tokenizer, TrainingData data)
      throws IOException {
    CheckpointWriter.write(dir, folder -> {
      writeModelFiles(folder, trainer.model(), tokenizer);
      ParameterStore store = trainer.model().parameters();
      Map<String, TensorData> moments = new LinkedHashMap<>();
      moments.put("exp_avg", momentsInFileLayout(store, trainer.optimizer().firstMoments()));
      moments.put("exp_avg_sq", momentsInFileLayout(store, trainer.optimizer().secondMoments()));
      SafeTensors.write(folder.resolve(OPTIMIZER_FILE), moments);
      AtomicFiles.writeString(folder.resolve(STATE_FILE), stateJson(trainer, data).toPrettyString());
    });
  }

  /**
   * Loads a model folder (saved here or by transformers) onto {@code backend}. Before anything is
   * allocated, config.json is checked against the weights file's header (every tensor's name and
   * shape) and against the device's memory.
   *
   * @throws FileFormatException naming config.json or model.safetensors and what does not match
   */
  public static LanguageModel loadModel(Path dir, Backend backend, DType computeType) throws IOException {
    requireFolder(dir);
    ModelConfig config = ModelConfigs.read(dir);
    checkBeforeAllocating(dir, ParameterLayouts.languageModel(config), backend, computeType);
    return withWeights(newModel(config, backend, computeType), dir, name -> false, new ArrayList<>());
  }

  /**
   * Loads a BERT folder with both pre-training heads ({@link BertForPreTraining}: saved by a run
   * with a sentence-pair task, or transformers' BertForPreTraining), with the checks of
   * {@link #loadModel}.
   *
   * @throws FileFormatException naming the file when it is not a BERT config or lacks the pooler or
   *     the cls.seq_relationship head
   */
  public static BertForPreTraining loadPreTraining(Path dir, Backend backend, DType computeType) throws IOException {
    requireFolder(dir);
    if (!(ModelConfigs.read(dir) instanceof BertConfig bert)) {
      throw new FileFormatException(dir.resolve(ModelConfigs.CONFIG_FILE), "not a BERT model (a sentence-pair task"
          + " needs model_type \"bert\" or \"" + BertConfig.PRE_LAYER_NORM_MODEL_TYPE + "\")");
    }
    checkBeforeAllocating(dir, ParameterLayouts.preTraining(bert), backend, computeType);
    return withWeights(new BertForPreTraining(bert, backend, computeType), dir, name -> false, new ArrayList<>());
  }

  /** config.json against the weights file's header (every tensor's name and shape) and the device's memory. */
  private static void checkBeforeAllocating(Path dir, ParameterLayouts.Layout layout, Backend backend,
      DType computeType) throws IOException {
    Path weightsFile = dir.resolve(WEIGHTS_FILE);
    if (!Files.isRegularFile(weightsFile)) {
      throw new NoSuchFileException(weightsFile.toString(), null, "missing model weights (expected " + WEIGHTS_FILE
          + ")");
    }
    Path configFile = dir.resolve(ModelConfigs.CONFIG_FILE);
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (SafeTensorsValidator.Entry e : SafeTensorsValidator.validate(weightsFile).entries()) {
      shapes.put(e.name(), e.shape());
    }
    try {
      ParameterLayouts.requireFits(layout.config(), layout.table(), bytesPerElement(computeType, false),
          backend.memoryBytes(), backend.device().toString());
    } catch (IllegalArgumentException e) {
      throw new FileFormatException(configFile, e.getMessage());
    }
    ParameterLayouts.match(layout, shapes, weightsFile, configFile);
  }

  /**
   * Checks that {@code tokenizer} belongs with {@code model} (both from {@code dir}): its ids fit the
   * vocabulary, a GPT-2 config's bos/eos ids are the tokenizer's end-of-text token (ids outside the
   * vocabulary, transformers' defaults for a small GPT-2, name no token and are not compared; see
   * {@link Gpt2Config#idsOutsideVocabulary}), and a BERT tokenizer has the [MASK] token masked
   * language modelling needs.
   *
   * @throws IllegalArgumentException naming the folder and the mismatch (another model's tokenizer?)
   */
  public static void requireMatchingTokenizer(Model model, Tokenizer tokenizer, Path dir) {
    String where = "the tokenizer in " + dir + " does not fit its " + model.modelType() + " model: ";
    if (tokenizer.vocabSize() > model.vocabSize()) {
      throw new IllegalArgumentException(where + "it has " + tokenizer.vocabSize() + " tokens but the model's"
          + " vocab_size is " + model.vocabSize() + " (mismatched files?)");
    }
    if (model instanceof Gpt2LMHeadModel gpt2) {
      String eos = tokenizer.specialTokens().eos();
      java.util.OptionalInt eosId = eos == null ? java.util.OptionalInt.empty() : tokenizer.tokenToId(eos);
      Gpt2Config config = gpt2.config();
      Map<String, Integer> ids = new LinkedHashMap<>();
      ids.put("bos_token_id", config.bosTokenId());
      ids.put("eos_token_id", config.eosTokenId());
      for (Map.Entry<String, Integer> key : ids.entrySet()) {
        Integer id = key.getValue();
        if (id != null && !config.outsideVocabulary(id) && (eosId.isEmpty() || eosId.getAsInt() != id)) {
          throw new IllegalArgumentException(where + "config.json's " + key.getKey() + " is " + id + " but the"
              + " tokenizer's end-of-text token is " + (eosId.isEmpty() ? "missing" : "'" + eos + "' (id "
              + eosId.getAsInt() + ")") + " (is it another model's tokenizer?)");
        }
      }
    } else if (model instanceof MaskedLanguageModel) {
      String mask = tokenizer.specialTokens().mask();
      if (mask == null || tokenizer.tokenToId(mask).isEmpty()) {
        throw new IllegalArgumentException(where + "it has no mask token, which a BERT (masked LM) model needs (is it"
            + " another model's tokenizer?)");
      }
    }
  }

  /** A zeroed model of {@code config} (BERT or GPT-2). */
  static LanguageModel newModel(ModelConfig config, Backend backend, DType computeType) {
    return config instanceof BertConfig bert ? new BertForMaskedLM(bert, backend, computeType)
        : new Gpt2LMHeadModel((Gpt2Config) config, backend, computeType);
  }

  /**
   * Bytes one parameter element occupies: F32 master weights and gradients, a working copy for
   * bf16/fp16, and for training AdamW's two F32 moments.
   */
  static long bytesPerElement(DType computeType, boolean training) {
    return 8 + (computeType == DType.F32 ? 0 : computeType.bytes()) + (training ? 8 : 0);
  }

  /**
   * What a training checkpoint's trainer_state.json holds, read strictly: every field typed and
   * range-checked.
   *
   * @param state where the run stands
   * @param maxSteps the run's planned optimizer steps
   * @param arguments the training arguments the checkpoint was written with
   * @param worldSize the ranks that wrote it (per_device_train_batch_size is per rank)
   * @param trainingData what the run trained on, or null (fine-tuning, or a checkpoint written before
   *     lmtrain recorded it)
   */
  public record SavedState(TrainState state, long maxSteps, TrainingArguments arguments, int worldSize,
      TrainingData trainingData) {}

  /**
   * Reads {@code dir}/trainer_state.json.
   *
   * @throws FileFormatException naming the file and the field that is missing, of the wrong type or
   *     out of range
   * @throws NoSuchFileException when the folder has no trainer_state.json
   */
  public static SavedState readState(Path dir) throws IOException {
    Path file = dir.resolve(STATE_FILE);
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString(), null, "no training checkpoint to resume from (expected "
          + STATE_FILE + ")");
    }
    JsonFields f = JsonFields.of(file, StrictJson.readObject(file));
    long maxSteps = f.integer("max_steps", 1, Integer.MAX_VALUE);
    long step = f.integer("global_step", 0, maxSteps);
    JsonFields loader = f.object("loader");
    LoaderState loaderState = new LoaderState(loader.intInRange("epoch", 0, Integer.MAX_VALUE),
        loader.intInRange("position", 0, Integer.MAX_VALUE), loader.integer("rng_state", Long.MIN_VALUE,
        Long.MAX_VALUE));
    long microBatches = f.integer("micro_batches", step, Long.MAX_VALUE);
    long tokensSeen = f.integer("tokens_seen", 0, Long.MAX_VALUE);
    float lossScale = (float) f.finite("loss_scale", Float.MIN_NORMAL, Float.MAX_VALUE);
    int cleanSteps = f.intInRange("clean_steps", 0, Integer.MAX_VALUE);
    String bestKey = f.has("best_metric") ? "best_metric" : "best_eval_loss"; // the latter: earlier versions
    double bestLoss = f.has(bestKey) ? f.finite(bestKey, -Double.MAX_VALUE, Double.MAX_VALUE) : Double.NaN;
    long bestStep = f.integer("best_step", -1, step);
    if (Double.isNaN(bestLoss) != (bestStep < 0)) {
      throw f.problem("best_step", "is " + bestStep + " but " + bestKey + " is " + (Double.isNaN(bestLoss)
          ? "absent" : bestLoss) + " (both are set after the first evaluation, neither before)");
    }
    JsonFields savedArgs = f.object("training_args");
    List<String> unknown = new ArrayList<>();
    TrainingArguments arguments;
    try {
      arguments = TrainingArguments.defaults().with(savedArgs.node(), unknown);
    } catch (IllegalArgumentException e) {
      throw f.problem("training_args", "is invalid: " + e.getMessage());
    }
    if (!unknown.isEmpty()) {
      throw f.problem("training_args", "has unknown key(s) " + unknown);
    }
    int worldSize = f.has("world_size") ? f.intInRange("world_size", 1, Integer.MAX_VALUE) : 1; // absent: 1 process
    TrainingData data = f.has(TrainingData.KEY) ? TrainingData.read(f.object(TrainingData.KEY)) : null;
    return new SavedState(new TrainState(step, loaderState, microBatches, tokensSeen, lossScale, cleanSteps, bestLoss,
        bestStep), maxSteps, arguments, worldSize, data);
  }

  /** The optimizer steps a training checkpoint had taken (its trainer_state.json's global_step). */
  public static long savedStep(Path dir) throws IOException {
    return readState(dir).state().globalStep();
  }

  /**
   * Restores optimizer moments and trainer state from a training checkpoint into {@code trainer}
   * (whose model must already hold the checkpoint's weights).
   */
  public static void restoreTraining(Path dir, Trainer trainer) throws IOException {
    Path stateFile = dir.resolve(STATE_FILE);
    SavedState state = readState(dir);
    TrainingArguments saved = state.arguments();
    TrainingArguments now = trainer.arguments();
    if (!EvalResult.metricKey(saved.metricForBestModel()).equals(EvalResult.metricKey(now.metricForBestModel()))) {
      throw new FileFormatException(stateFile, "the checkpoint kept its best model by metric_for_best_model '"
          + saved.metricForBestModel() + "'; resuming needs the same metric (got '" + now.metricForBestModel() + "')");
    }
    // The loader stands at a position in global batches (per-rank batch x ranks): any world size
    // that keeps the global batch continues the same batches.
    int savedRanks = state.worldSize();
    int ranks = trainer.dataParallel().worldSize();
    if (saved.seed() != now.seed() || saved.trainBatchSize() * savedRanks != now.trainBatchSize() * ranks
        || saved.gradientAccumulationSteps() != now.gradientAccumulationSteps()) {
      throw new FileFormatException(stateFile, "the checkpoint was trained with seed " + saved.seed() + ", batch size "
          + batchText(saved.trainBatchSize(), savedRanks) + ", accumulation " + saved.gradientAccumulationSteps()
          + "; resuming needs the same seed, global batch size and accumulation (got " + now.seed() + ", "
          + batchText(now.trainBatchSize(), ranks) + ", " + now.gradientAccumulationSteps() + ")"
          + (saved.trainBatchSize() * savedRanks % ranks == 0 && saved.trainBatchSize() * savedRanks != now.trainBatchSize()
              * ranks ? "; with " + ranks + " rank(s) set per_device_train_batch_size to "
              + saved.trainBatchSize() * savedRanks / ranks : ""));
    }
    Path optimizerFile = dir.resolve(OPTIMIZER_FILE);
    if (!Files.isRegularFile(optimizerFile)) {
      throw new NoSuchFileException(optimizerFile.toString(), null, "missing the optimizer state of the checkpoint"
          + " (expected " + OPTIMIZER_FILE + " beside " + STATE_FILE + ")");
    }
    SafeTensorsFile moments = SafeTensors.read(optimizerFile);
    ParameterStore store = trainer.model().parameters();
    uploadMoments(moments, "exp_avg", store, trainer.optimizer().firstMoments());
    uploadMoments(moments, "exp_avg_sq", store, trainer.optimizer().secondMoments());
    try {
      trainer.restore(state.state());
    } catch (IllegalArgumentException e) {
      throw new FileFormatException(stateFile, "field 'loader' does not fit this run: " + e.getMessage()
          + " (were the corpus, the batch size or the context length changed?)");
    }
  }

  private static String batchText(int perRank, int ranks) {
    return ranks == 1 ? String.valueOf(perRank) : perRank * ranks + " (" + perRank + " per rank x " + ranks + " ranks)";
  }

  private static ObjectNode stateJson(Trainer trainer, TrainingData data) {
    TrainState s = trainer.state();
    ObjectNode o = JSON.createObjectNode();
    o.put("global_step", s.globalStep()).put("max_steps", trainer.totalSteps());
    o.putObject("loader").put("epoch", s.loader().epoch()).put("position", s.loader().position())
        .put("rng_state", s.loader().rngState());
    o.put("micro_batches", s.microBatches()).put("tokens_seen", s.tokensSeen()).put("loss_scale", s.lossScale())
        .put("clean_steps", s.cleanSteps());
    if (!Double.isNaN(s.bestMetric())) {
      o.put("best_metric", s.bestMetric());
    }
    o.put("best_step", s.bestStep());
    o.put("world_size", trainer.dataParallel().worldSize());
    o.set("training_args", trainer.arguments().toJson(JSON));
    if (data != null) {
      o.set(TrainingData.KEY, data.toJson());
    }
    return o;
  }

  private static void writeModelFiles(Path folder, Model model, Tokenizer tokenizer) throws IOException {
    ParameterStore store = model.parameters();
    Map<String, TensorData> tensors = new LinkedHashMap<>();
    for (ParameterTable.Entry e : store.table().entries()) {
      tensors.put(e.name(), TensorData.ofFloats(e.shape(), store.backend().downloadFloats(store.master(e.name()))));
    }
    model.savedCopies().forEach((key, parameter) -> tensors.put(key, tensors.get(parameter)));
    SafeTensors.write(folder.resolve(WEIGHTS_FILE), tensors);
    AtomicFiles.writeString(folder.resolve(ModelConfigs.CONFIG_FILE), model.configJson());
    if (tokenizer != null) {
      tokenizer.save(folder);
    }
  }

  /**
   * Loads a sequence-classification folder (config.json with id2label or num_labels, saved here or
   * by transformers' {@code *ForSequenceClassification}) onto {@code backend}.
   */
  public static SequenceClassifier loadClassifier(Path dir, Backend backend, DType computeType) throws IOException {
    requireFolder(dir);
    Path configFile = dir.resolve(ModelConfigs.CONFIG_FILE);
    SequenceClassification head = ModelConfigs.readClassification(configFile);
    if (head == null || !ModelConfigs.architecture(configFile).endsWith("ForSequenceClassification")) {
      throw new FileFormatException(configFile, "not a sequence-classification model (expected architectures"
          + " [\"BertForSequenceClassification\"] or [\"GPT2ForSequenceClassification\"] with id2label; fine-tune a"
          + " base model first with 'lmtrain finetune')");
    }
    return withWeights(SequenceClassifier.create(ModelConfigs.read(dir), head, backend, computeType), dir,
        name -> false, new ArrayList<>());
  }

  /**
   * A classifier with the label set {@code head} on the body of any BERT or GPT-2 folder (a masked
   * or causal language model, a bare BertModel / GPT2Model, or a classifier with the same labels),
   * saved here or by transformers: the body's weights are loaded, the other heads dropped, and what
   * the folder does not hold (the pooler, the classifier or score head) keeps Hugging Face's
   * initialisation from {@code seed}.
   *
   * @param initialized receives the names of the parameters that were initialised, not loaded
   */
  public static SequenceClassifier loadClassifierBase(Path dir, SequenceClassification head, Backend backend,
      DType computeType, long seed, List<String> initialized) throws IOException {
    requireFolder(dir);
    SequenceClassifier model = SequenceClassifier.create(ModelConfigs.read(dir), head, backend, computeType);
    model.initialize(seed);
    return withWeights(model, dir,
        name -> name.startsWith("bert.pooler.") || name.startsWith("classifier.") || name.startsWith("score."),
        initialized);
  }

  /**
   * {@code model} with the weights of {@code dir}'s model.safetensors ({@link #loadWeights}); the
   * names that {@code mayBeMissing} let pass go to {@code missing}. Closes the model on failure.
   */
  private static <M extends Model> M withWeights(M model, Path dir, Predicate<String> mayBeMissing,
      List<String> missing) throws IOException {
    try {
      missing.addAll(loadWeights(dir.resolve(WEIGHTS_FILE), model, mayBeMissing));
      return model;
    } catch (IOException | RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /** Fills every parameter of {@code model} from a safetensors file, Hugging Face naming rules applied. */
  static void loadWeights(Path file, Model model) throws IOException {
    loadWeights(file, model, name -> false);
  }

  /**
   * Fills the parameters of {@code model} that the safetensors file holds, Hugging Face naming rules
   * applied; parameters it lacks are an error unless {@code mayBeMissing} accepts them. Returns those.
   */
  static List<String> loadWeights(Path file, Model model, Predicate<String> mayBeMissing) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString(), null, "missing model weights (expected " + WEIGHTS_FILE + ")");
    }
    SafeTensorsFile weights = SafeTensors.read(file);
    ParameterStore store = model.parameters();
    Set<String> filled = new HashSet<>();
    Map<String, TensorData> byParameter = new LinkedHashMap<>();
    for (Map.Entry<String, TensorData> t : weights.tensors().entrySet()) {
      String name = model.parameterNameFor(t.getKey());
      if (name == null) {
        continue;
      }
      if (!store.table().contains(name)) {
        throw new FileFormatException(file, "tensor '" + t.getKey() + "' is not a parameter of this "
            + model.modelType() + " model (does config.json match the weights?)");
      }
      byParameter.put(name, t.getValue());
    }
    // BERT / pre-LN BERT: the MLM output bias comes from the decoder's bias where the file has one.
    ParameterLayouts.outputBiasSources(store.table(), weights::contains)
        .forEach((parameter, key) -> byParameter.put(parameter, weights.tensor(key)));
    for (Map.Entry<String, TensorData> t : byParameter.entrySet()) {
      ParameterTable.Entry entry = store.table().get(t.getKey());
      TensorData data = t.getValue();
      if (!java.util.Arrays.equals(entry.shape(), data.shape())) {
        throw new FileFormatException(file, "tensor '" + t.getKey() + "' has shape "
            + java.util.Arrays.toString(data.shape()) + " but the config needs " + java.util.Arrays.toString(entry.shape()));
      }
      store.setMaster(t.getKey(), data.toFloats());
      filled.add(t.getKey());
    }
    List<String> missing = new ArrayList<>();
    List<String> allowed = new ArrayList<>();
    for (ParameterTable.Entry e : store.table().entries()) {
      if (!filled.contains(e.name())) {
        (mayBeMissing.test(e.name()) ? allowed : missing).add(e.name());
      }
    }
    if (!missing.isEmpty()) {
      throw new FileFormatException(file, "missing " + missing.size() + " parameter(s): "
          + String.join(", ", missing.subList(0, Math.min(5, missing.size()))) + (missing.size() > 5 ? ", ..." : ""));
    }
    return allowed;
  }

  /** Moments laid out like the parameter buffer, as the file's flat vector (without padding rows). */
  private static TensorData momentsInFileLayout(ParameterStore store, Tensor moments) {
    ParameterTable file = store.table().withoutPadding();
    float[] flat = new float[Math.toIntExact(file.totalElements())];
    for (ParameterTable.Entry e : store.table().entries()) {
      float[] values = store.backend().downloadFloats(moments.slice(e.offset(), e.numel()));
      System.arraycopy(values, 0, flat, Math.toIntExact(file.get(e.name()).offset()), values.length);
    }
    return TensorData.ofFloats(new long[] {flat.length}, flat);
  }

  /** The file's flat moments into the parameter buffer's layout (gaps and padding rows stay zero). */
  private static void uploadMoments(SafeTensorsFile file, String name, ParameterStore store, Tensor moments)
      throws IOException {
    ParameterTable layout = store.table().withoutPadding();
    if (!file.contains(name)) {
      throw new FileFormatException(file.path(), "optimizer state '" + name + "' is missing");
    }
    if (file.tensor(name).numel() != layout.totalElements()) {
      throw new FileFormatException(file.path(), "optimizer state '" + name + "' has " + file.tensor(name).numel()
          + " elements but this run's model needs " + layout.totalElements() + " (was the checkpoint trained with"
          + " another model config or --objective?)");
    }
    float[] flat = file.tensor(name).toFloats();
    for (ParameterTable.Entry e : store.table().entries()) {
      int from = Math.toIntExact(layout.get(e.name()).offset());
      store.backend().upload(moments.slice(e.offset(), e.numel()),
          Arrays.copyOfRange(flat, from, from + Math.toIntExact(e.numel())));
    }
  }

  private static void requireFolder(Path dir) throws NoSuchFileException {
    if (!Files.isDirectory(dir)) {
      throw new NoSuchFileException(dir.toString(), null, "not a model folder (expected a folder with "
          + ModelConfigs.CONFIG_FILE + " and " + WEIGHTS_FILE + ")");
    }
  }
}
