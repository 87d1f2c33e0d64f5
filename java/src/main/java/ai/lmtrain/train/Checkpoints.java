package ai.lmtrain.train;

import ai.lmtrain.data.LoaderState;
import ai.lmtrain.io.AtomicFiles;
import ai.lmtrain.io.CheckpointWriter;
import ai.lmtrain.io.FileFormatException;
import ai.lmtrain.io.SafeTensors;
import ai.lmtrain.io.SafeTensorsFile;
import ai.lmtrain.io.TensorData;
import ai.lmtrain.models.BertConfig;
import ai.lmtrain.models.BertForMaskedLM;
import ai.lmtrain.models.Gpt2Config;
import ai.lmtrain.models.Gpt2LMHeadModel;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.ModelConfig;
import ai.lmtrain.models.ModelConfigs;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.ParameterStore;
import ai.lmtrain.tensor.ParameterTable;
import ai.lmtrain.tokenizers.Tokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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

  private static final ObjectMapper JSON = new ObjectMapper();

  private Checkpoints() {}

  /**
   * Replaces the folder {@code dir} atomically with the model (F32 master weights, tied copies
   * omitted), its config and the tokenizer.
   */
  public static void saveModel(Path dir, LanguageModel model, Tokenizer tokenizer) throws IOException {
    CheckpointWriter.write(dir, folder -> writeModelFiles(folder, model, tokenizer));
  }

  /**
   * Writes the model files into {@code dir} next to whatever else it holds (a run's output folder
   * keeps its checkpoint/, best/ and metrics); each file is replaced atomically.
   */
  public static void saveModelFiles(Path dir, LanguageModel model, Tokenizer tokenizer) throws IOException {
    Files.createDirectories(dir);
    writeModelFiles(dir, model, tokenizer);
  }

  /** Writes a resumable checkpoint: the model files, optimizer moments and trainer state. */
  public static void saveTraining(Path dir, Trainer trainer, Tokenizer tokenizer) throws IOException {
    CheckpointWriter.write(dir, folder -> {
      writeModelFiles(folder, trainer.model(), tokenizer);
      Backend backend = trainer.model().parameters().backend();
      long n = trainer.model().parameters().table().totalElements();
      Map<String, TensorData> moments = new LinkedHashMap<>();
      moments.put("exp_avg", TensorData.ofFloats(new long[] {n}, backend.downloadFloats(trainer.optimizer().firstMoments())));
      moments.put("exp_avg_sq", TensorData.ofFloats(new long[] {n}, backend.downloadFloats(trainer.optimizer().secondMoments())));
      SafeTensors.write(folder.resolve(OPTIMIZER_FILE), moments);
      AtomicFiles.writeString(folder.resolve(STATE_FILE), stateJson(trainer).toPrettyString());
    });
  }

  /** Loads a model folder (saved here or by transformers) onto {@code backend}. */
  public static LanguageModel loadModel(Path dir, Backend backend, DType computeType) throws IOException {
    requireFolder(dir);
    ModelConfig config = ModelConfigs.read(dir);
    LanguageModel model = config instanceof BertConfig bert
        ? new BertForMaskedLM(bert, backend, computeType)
        : new Gpt2LMHeadModel((Gpt2Config) config, backend, computeType);
    try {
      loadWeights(dir.resolve(WEIGHTS_FILE), model);
      return model;
    } catch (IOException | RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /**
   * Restores optimizer moments and trainer state from a training checkpoint into {@code trainer}
   * (whose model must already hold the checkpoint's weights).
   */
  public static void restoreTraining(Path dir, Trainer trainer) throws IOException {
    Path stateFile = dir.resolve(STATE_FILE);
    if (!Files.isRegularFile(stateFile)) {
      throw new NoSuchFileException(stateFile.toString(), null, "no training checkpoint to resume from");
    }
    JsonNode state = JSON.readTree(stateFile.toFile());
    TrainingArguments saved = TrainingArguments.defaults().with(state.path("training_args"), new ArrayList<>());
    TrainingArguments now = trainer.arguments();
    // The loader stands at a position in global batches (per-rank batch x ranks): any world size
    // that keeps the global batch continues the same batches.
    int savedRanks = state.path("world_size").asInt(1);
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
    SafeTensorsFile moments = SafeTensors.read(dir.resolve(OPTIMIZER_FILE));
    Backend backend = trainer.model().parameters().backend();
    uploadExact(moments, "exp_avg", trainer.optimizer().firstMoments(), backend);
    uploadExact(moments, "exp_avg_sq", trainer.optimizer().secondMoments(), backend);
    JsonNode loader = state.path("loader");
    trainer.restore(new TrainState(state.path("global_step").asLong(),
        new LoaderState(loader.path("epoch").asInt(), loader.path("position").asInt(), loader.path("rng_state").asLong()),
        state.path("micro_batches").asLong(), state.path("tokens_seen").asLong(),
        (float) state.path("loss_scale").asDouble(), state.path("clean_steps").asInt(),
        state.path("best_eval_loss").isNumber() ? state.path("best_eval_loss").asDouble() : Double.NaN,
        state.path("best_step").asLong()));
  }

  private static String batchText(int perRank, int ranks) {
    return ranks == 1 ? String.valueOf(perRank) : perRank * ranks + " (" + perRank + " per rank x " + ranks + " ranks)";
  }

  private static ObjectNode stateJson(Trainer trainer) {
    TrainState s = trainer.state();
    ObjectNode o = JSON.createObjectNode();
    o.put("global_step", s.globalStep()).put("max_steps", trainer.totalSteps());
    o.putObject("loader").put("epoch", s.loader().epoch()).put("position", s.loader().position())
        .put("rng_state", s.loader().rngState());
    o.put("micro_batches", s.microBatches()).put("tokens_seen", s.tokensSeen()).put("loss_scale", s.lossScale())
        .put("clean_steps", s.cleanSteps());
    if (!Double.isNaN(s.bestEvalLoss())) {
      o.put("best_eval_loss", s.bestEvalLoss());
    }
    o.put("best_step", s.bestStep());
    o.put("world_size", trainer.dataParallel().worldSize());
    o.set("training_args", trainer.arguments().toJson(JSON));
    return o;
  }

  private static void writeModelFiles(Path folder, LanguageModel model, Tokenizer tokenizer) throws IOException {
    ParameterStore store = model.parameters();
    Map<String, TensorData> tensors = new LinkedHashMap<>();
    for (ParameterTable.Entry e : store.table().entries()) {
      tensors.put(e.name(), TensorData.ofFloats(e.shape(), store.backend().downloadFloats(store.master(e.name()))));
    }
    SafeTensors.write(folder.resolve(WEIGHTS_FILE), tensors);
    AtomicFiles.writeString(folder.resolve(ModelConfigs.CONFIG_FILE), model.configJson());
    if (tokenizer != null) {
      tokenizer.save(folder);
    }
  }

  /** Fills every parameter of {@code model} from a safetensors file, Hugging Face naming rules applied. */
  static void loadWeights(Path file, LanguageModel model) throws IOException {
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
    // BERT: the MLM output bias may only be stored under its tied alias.
    if (!byParameter.containsKey("cls.predictions.bias") && weights.contains("cls.predictions.decoder.bias")
        && store.table().contains("cls.predictions.bias")) {
      byParameter.put("cls.predictions.bias", weights.tensor("cls.predictions.decoder.bias"));
    }
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
    for (ParameterTable.Entry e : store.table().entries()) {
      if (!filled.contains(e.name())) {
        missing.add(e.name());
      }
    }
    if (!missing.isEmpty()) {
      throw new FileFormatException(file, "missing " + missing.size() + " parameter(s): "
          + String.join(", ", missing.subList(0, Math.min(5, missing.size()))) + (missing.size() > 5 ? ", ..." : ""));
    }
  }

  private static void uploadExact(SafeTensorsFile file, String name, ai.lmtrain.tensor.Tensor target, Backend backend)
      throws IOException {
    if (!file.contains(name) || file.tensor(name).numel() != target.numel()) {
      throw new FileFormatException(file.path(), "optimizer state '" + name + "' is missing or has the wrong size"
          + " (expected " + target.numel() + " elements)");
    }
    backend.upload(target, file.tensor(name).toFloats());
  }

  private static void requireFolder(Path dir) throws NoSuchFileException {
    if (!Files.isDirectory(dir)) {
      throw new NoSuchFileException(dir.toString(), null, "not a model folder (expected a folder with "
          + ModelConfigs.CONFIG_FILE + " and " + WEIGHTS_FILE + ")");
    }
  }
}
