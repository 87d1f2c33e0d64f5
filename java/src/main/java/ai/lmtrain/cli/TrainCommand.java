package ai.lmtrain.cli;

import ai.lmtrain.data.TextSource;
import ai.lmtrain.data.TokenDataset;
import ai.lmtrain.data.shards.ShardDirectory;
import ai.lmtrain.data.TrainValidationSplit;
import ai.lmtrain.io.FileFormatException;
import ai.lmtrain.models.BertConfig;
import ai.lmtrain.models.Gpt2Config;
import ai.lmtrain.models.ModelConfig;
import ai.lmtrain.models.ModelConfigs;
import ai.lmtrain.tokenizers.Tokenizer;
import ai.lmtrain.tokenizers.TokenizerTrainer;
import ai.lmtrain.tokenizers.Tokenizers;
import ai.lmtrain.tokenizers.TrainerOptions;
import ai.lmtrain.train.EvalResult;
import ai.lmtrain.train.LmDatasets;
import ai.lmtrain.train.LossWeighting;
import ai.lmtrain.train.Precision;
import ai.lmtrain.train.PretrainingJob;
import ai.lmtrain.train.TrainingArguments;
import ai.lmtrain.train.dist.DistributedRuntime;
import ai.lmtrain.train.dist.Launch;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lmtrain train}: pre-trains a BERT (masked LM) or GPT-2 (causal LM) on text files
 * ({@code --corpus}) or on token shards from prepare-data ({@code --data}). The
 * {@code --config} JSON holds Hugging Face TrainingArguments keys (num_train_epochs, learning_rate,
 * ...) and model config keys (hidden_size, n_layer, ...) side by side. Started by mpirun, srun or
 * {@code lmtrain launch}, each process is one rank of a data-parallel run ({@link DistributedRuntime}).
 */
@Command(name = "train", mixinStandardHelpOptions = true, description = "Pre-train a BERT or GPT-2 model on text files or token shards.")
final class TrainCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, description = "bert or gpt2")
  String modelType;

  @Option(names = "--corpus", arity = "1..*", paramLabel = "FILE", description = "UTF-8 training text files")
  List<Path> corpus;

  @Option(names = "--data", paramLabel = "DIR", description = "token shards from prepare-data (or llm.c), instead of"
      + " --corpus; validation comes from their val shards")
  Path data;

  @Spec CommandSpec spec;

  @ArgGroup(exclusive = true, multiplicity = "1")
  TokenizerChoice tokenizerChoice;

  static final class TokenizerChoice {
    @Option(names = "--tokenizer", paramLabel = "PATH", description = "tokenizer.json, vocab.txt, or a folder holding one")
    Path path;

    @Option(names = "--train-tokenizer", description = "train a tokenizer on the corpus (WordPiece for bert, byte-level BPE for gpt2)")
    boolean train;
  }

  @Option(names = "--vocab-size", defaultValue = "8000", description = "vocabulary of a trained tokenizer (default: ${DEFAULT-VALUE})")
  int vocabSize;

  @Option(names = "--config", paramLabel = "FILE.json", description = "training and model settings (HF key names)")
  Path config;

  @Option(names = "--output", required = true, paramLabel = "DIR", description = "output folder")
  Path output;

  @Option(names = "--resume", description = "continue from DIR/checkpoint with the same settings")
  boolean resume;

  @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda[:N] (default: ${DEFAULT-VALUE})")
  String device;

  @Option(names = "--precision", description = "fp32, bf16 or fp16 (overrides the config)")
  String precision;

  @Option(names = "--mode", description = "lines, chunks or sliding (default: lines for bert, chunks for gpt2)")
  String mode;

  @Option(names = "--context-length", description = "tokens per example (default: min(128, the model's maximum))")
  Integer contextLength;

  @Option(names = "--stride", description = "window step for --mode sliding (default: half the context length)")
  Integer stride;

  @Option(names = "--validation-split", defaultValue = "0.1", description = "share of the examples held out for evaluation (default: ${DEFAULT-VALUE})")
  double validationSplit;

  @Option(names = "--validation", arity = "1..*", paramLabel = "FILE", description = "validation files (instead of a split)")
  List<Path> validation;

  @Option(names = "--logging-dir", paramLabel = "DIR",
      description = "TensorBoard event files (default: DIR/runs/DATE_HOST; report_to \"none\" in --config turns them off)")
  Path loggingDir;

  @Override
  public Integer call() throws Exception {
    try (DistributedRuntime runtime = DistributedRuntime.open(Launch.detect(System.getenv()), device, System.getenv())) {
      return RankFailures.run(runtime.dataParallel(), () -> train(runtime));
    }
  }

  private int train(DistributedRuntime runtime) throws Exception {
    boolean bert = switch (modelType) {
      case "bert" -> true;
      case "gpt2" -> false;
      default -> throw new IllegalArgumentException("--model must be bert or gpt2 (got '" + modelType + "')");
    };
    JsonNode settings = config == null ? JsonOut.MAPPER.createObjectNode() : readConfig(config);
    List<String> unknown = new ArrayList<>();
    TrainingArguments args = TrainingArguments.defaults().with(settings, unknown);
    args = withOverrides(args, precision, loggingDir);
    if ((corpus == null) == (data == null)) {
      throw new IllegalArgumentException("give either --corpus FILE... or --data DIR (from prepare-data)");
    }
    if (data != null) {
      for (String flag : new String[] {"--train-tokenizer", "--mode", "--stride", "--validation-split", "--validation"}) {
        if (spec.commandLine().getParseResult().hasMatchedOption(flag)) {
          throw new IllegalArgumentException(flag + " does not apply to --data: the shards are tokenized already and"
              + " hold their own validation split (pass the --tokenizer given to prepare-data)");
        }
      }
    }
    Tokenizer tokenizer = tokenizer(bert);
    ModelConfig modelConfig = modelConfig(bert, settings, unknown, tokenizer);
    int context = contextLength != null ? contextLength : Math.min(128, modelConfig.maxPositions());
    if (data != null) {
      return trainOnShards(args, tokenizer, modelConfig, context, runtime);
    }
    List<String> texts = TextSource.lines(corpus);
    List<String> trainTexts = texts;
    List<String> evalTexts;
    if (validation != null) {
      evalTexts = TextSource.lines(validation);
    } else {
      TrainValidationSplit<String> split = TrainValidationSplit.of(texts, validationSplit, args.seed());
      trainTexts = split.train();
      evalTexts = split.validation();
    }
    LmDatasets.Mode datasetMode = mode != null ? LmDatasets.Mode.parse(mode) : bert ? LmDatasets.Mode.LINES
        : LmDatasets.Mode.CHUNKS;
    try (ConsoleProgress progress = new ConsoleProgress(modelType)) {
      report(PretrainingJob.run(new PretrainingJob.Spec(modelType, modelConfig, tokenizer, trainTexts, evalTexts,
          datasetMode, context, stride != null ? stride : Math.max(1, context / 2), args, output, resume,
          LossWeighting.MEAN), runtime.backend(), runtime.dataParallel(), progress), runtime);
    }
    return 0;
  }

  /** {@code --data}: examples read from the memory-mapped shards (windows for GPT-2, packed documents for BERT). */
  private int trainOnShards(TrainingArguments args, Tokenizer tokenizer, ModelConfig modelConfig, int context,
      DistributedRuntime runtime) throws IOException {
    ShardDirectory shards = ShardDirectory.open(data, tokenizer);
    TokenDataset train = ShardDirectory.examples(shards.train(), tokenizer, context);
    TokenDataset eval = shards.validation().isEmpty() ? null
        : ShardDirectory.examples(shards.validation(), tokenizer, context);
    if (eval != null && eval.size() == 0) {
      eval = null; // a validation shard shorter than one example
    }
    try (ConsoleProgress progress = new ConsoleProgress(modelType)) {
      report(PretrainingJob.run(new PretrainingJob.Spec(modelType, modelConfig, tokenizer, List.of(), List.of(), null,
          context, context, args, output, resume, LossWeighting.MEAN), train, eval, runtime.backend(),
          runtime.dataParallel(), progress), runtime);
    }
    return 0;
  }

  /** Rank 0 prints the outcome; every rank closes its model. */
  private void report(PretrainingJob.Result result, DistributedRuntime runtime) {
    try {
      EvalResult e = result.finalEval();
      if (runtime.dataParallel().isRoot()) {
        System.out.printf("trained %s: %s%nsaved to %s%n", modelType, e == null ? "no validation set"
            : String.format("validation loss %.4f, perplexity %.3f, accuracy %.4f", e.loss(), e.perplexity(),
                e.accuracy()), output);
      }
    } finally {
      result.model().close();
    }
  }

  private Tokenizer tokenizer(boolean bert) throws IOException {
    if (resume) {
      return Tokenizers.load(output.resolve("checkpoint"));
    }
    if (tokenizerChoice.path != null) {
      return Tokenizers.load(tokenizerChoice.path);
    }
    Tokenizer trained = bert ? TokenizerTrainer.trainWordPiece(corpus, TrainerOptions.wordPiece(vocabSize))
        : TokenizerTrainer.trainByteLevelBpe(corpus, TrainerOptions.byteLevelBpe(vocabSize));
    Files.createDirectories(output);
    return trained;
  }

  /** Defaults of the architecture (HF's), the config file's model keys, and the tokenizer's vocabulary and specials. */
  private ModelConfig modelConfig(boolean bert, JsonNode settings, List<String> unknown, Tokenizer tokenizer)
      throws FileFormatException {
    ModelConfig defaults = bert ? BertConfig.bertBase().withVocabSize(tokenizer.vocabSize())
        : gpt2Defaults(tokenizer);
    Set<String> modelKeys = ModelConfigs.keys(defaults);
    ObjectNode keys = JsonOut.MAPPER.createObjectNode();
    for (String key : unknown) {
      if (!modelKeys.contains(key)) {
        throw new IllegalArgumentException("unknown key '" + key + "' in " + config + " (expected TrainingArguments keys "
            + TrainingArguments.keys() + " or " + modelType + " config keys " + modelKeys + ")");
      }
      keys.set(key, settings.get(key));
    }
    Path source = config != null ? config : output.resolve("config.json");
    return ModelConfigs.merge(defaults, keys, source);
  }

  private static Gpt2Config gpt2Defaults(Tokenizer tokenizer) {
    Gpt2Config c = Gpt2Config.gpt2Small().withSpecialTokens(null, null).withVocabSize(tokenizer.vocabSize());
    String eos = tokenizer.specialTokens().eos();
    OptionalInt id = eos == null ? OptionalInt.empty() : tokenizer.tokenToId(eos);
    return id.isPresent() ? c.withSpecialTokens(id.getAsInt(), id.getAsInt()) : c.withSpecialTokens(null, null);
  }

  /** {@code args} with the --precision and --logging-dir flags applied (each may be null). */
  static TrainingArguments withOverrides(TrainingArguments args, String precision, Path loggingDir) {
    TrainingArguments a = args;
    if (precision != null) {
      a = a.copy(Map.of("precision", Precision.parse(precision)));
    }
    if (loggingDir != null) {
      a = a.copy(Map.of("loggingDir", loggingDir.toString()));
    }
    return a;
  }

  /** The settings object of a --config file; clear errors for a missing file or invalid JSON. */
  static JsonNode readConfig(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new java.nio.file.NoSuchFileException(file.toString(), null, "config file not found");
    }
    JsonNode node;
    try {
      node = JsonOut.MAPPER.readTree(file.toFile());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new FileFormatException(file, "not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (!node.isObject()) {
      throw new FileFormatException(file, "expected a JSON object of settings");
    }
    return node;
  }
}
