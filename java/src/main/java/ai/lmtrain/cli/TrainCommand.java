package ai.lmtrain.cli;

import ai.lmtrain.data.SentencePairs;
import ai.lmtrain.data.TextSource;
import ai.lmtrain.data.TokenDataset;
import ai.lmtrain.data.shards.ShardDirectory;
import ai.lmtrain.data.TrainValidationSplit;
import ai.lmtrain.io.StrictJson;
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
import ai.lmtrain.train.Checkpoints;
import ai.lmtrain.train.Precision;
import ai.lmtrain.train.PretrainingJob;
import ai.lmtrain.train.RunFolder;
import ai.lmtrain.train.TrainingArguments;
import ai.lmtrain.train.TrainingData;
import ai.lmtrain.train.dist.DataParallel;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lmtrain train}: pre-trains a BERT (masked LM, optionally with next sentence or sentence
 * order prediction; post-LN "bert" or pre-LN "roberta-prelayernorm") or GPT-2 (causal LM) on text
 * files ({@code --corpus}) or on token shards from prepare-data ({@code --data}). The
 * {@code --config} JSON holds Hugging Face TrainingArguments keys (num_train_epochs, learning_rate,
 * ...) and model config keys (hidden_size, n_layer, initializer, ...) side by side. Started by mpirun,
 * srun or {@code lmtrain launch}, each process is one rank of a data-parallel run
 * ({@link DistributedRuntime}).
 */
@Command(name = "train", mixinStandardHelpOptions = true, description = "Pre-train a BERT or GPT-2 model on text files or token shards.")
final class TrainCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(TrainCommand.class);

  @Option(names = "--model", required = true,
      description = "bert, roberta-prelayernorm (BERT with pre-LN layers) or gpt2 (the config.json model_type)")
  String modelType;

  @Option(names = "--objective", description = "bert and roberta-prelayernorm: mlm (default), mlm+nsp (next sentence"
      + " prediction) or mlm+sop (sentence order prediction); with a sentence task the corpus holds one sentence per"
      + " line and blank lines between documents")
  String objective;

  @Option(names = "--dupe-factor", defaultValue = "1",
      description = "with mlm+nsp / mlm+sop: times the sentence pairs are drawn from each document (default: ${DEFAULT-VALUE})")
  int dupeFactor;

  @Option(names = "--corpus", arity = "1..*", paramLabel = "FILE", description = "UTF-8 training text files")
  List<Path> corpus;

  @Option(names = "--data", paramLabel = "DIR", description = "token shards from prepare-data (or llm.c), instead of"
      + " --corpus; validation comes from their val shards")
  Path data;

  @ArgGroup(exclusive = true, multiplicity = "0..1")
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

  @Option(names = "--resume", description = "continue from DIR/checkpoint (its tokenizer, model config and, without"
      + " --config, its training arguments)")
  boolean resume;

  @Option(names = "--overwrite", description = "replace the run in DIR: the new run is built beside it and swapped in"
      + " when complete")
  boolean overwrite;

  @Spec CommandSpec spec;

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
      case BertConfig.MODEL_TYPE, BertConfig.PRE_LAYER_NORM_MODEL_TYPE -> true;
      case Gpt2Config.MODEL_TYPE -> false;
      default -> throw new IllegalArgumentException("--model must be bert, roberta-prelayernorm or gpt2 (got '"
          + modelType + "')");
    };
    SentencePairs.Task task = sentenceTask(objective, bert);
    checkFlags();
    if (task != null) {
      for (String flag : new String[] {"--mode", "--stride", "--data"}) {
        if (spec.commandLine().getParseResult().hasMatchedOption(flag)) {
          throw new IllegalArgumentException(flag + " does not apply to --objective " + objective + " (the examples are"
              + " sentence pairs of up to --context-length tokens, from the documents of --corpus)");
        }
      }
    }
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
    // The run folder is rank 0's: it alone claims (locks, checks, repairs) it, and the others read a
    // resumed checkpoint only once it has (the agreement orders that, and stops every rank if it failed).
    DataParallel parallel = runtime.dataParallel();
    try (RunFolder.Claim folder = parallel.isRoot()
        ? RunFolder.claim(output, RunFolder.Mode.of(resume, overwrite), "train") : null) {
      if (parallel.isRoot() && resume) {
        PretrainingJob.checkpointToResume(output);
      }
      parallel.agree();
      return train(folder, bert, task, runtime);
    }
  }

  /**
   * The run, with the output folder claimed by rank 0 (nothing else reads or writes it meanwhile);
   * {@code folder} is null on the other ranks, which write nothing there ({@code task}: the
   * sentence-pair task of --objective, or null).
   */
  private int train(RunFolder.Claim folder, boolean bert, SentencePairs.Task task, DistributedRuntime runtime)
      throws IOException {
    Path checkpoint = resume ? output.resolve("checkpoint") : null;
    JsonNode settings = config == null ? JsonOut.MAPPER.createObjectNode() : readConfig(config);
    List<String> unknown = new ArrayList<>();
    TrainingArguments base = config == null && resume ? Checkpoints.readState(checkpoint).arguments()
        : TrainingArguments.defaults();
    TrainingArguments args = withOverrides(base.with(settings, unknown), precision, loggingDir);
    Tokenizer tokenizer = resume ? Tokenizers.load(checkpoint) : tokenizer(bert);
    ModelConfig modelConfig = modelConfig(settings, unknown, tokenizer, checkpoint);
    int context = contextLength != null ? Flags.inRange(spec, "--context-length", contextLength, 2,
        modelConfig.maxPositions()) : Math.min(128, modelConfig.maxPositions());
    ShardDirectory shards = data != null ? ShardDirectory.open(data, tokenizer) : null;
    TrainingData trainingData = shards != null ? TrainingData.of(shards.identity()) : TrainingData.TEXT;
    if (resume && folder != null) {
      // before the corpus is read or the shards are indexed: a checkpoint of other data stops the run at once
      PretrainingJob.requireSameData(checkpoint, trainingData);
    }
    RunFolder.Builder<PretrainingJob.Result> job = shards != null
        ? shardJob(shards, trainingData, args, tokenizer, modelConfig, context, runtime)
        : textJob(bert, task, args, tokenizer, modelConfig, context, runtime);
    report(folder != null ? folder.build(job) : job.buildIn(output), runtime);
    return 0;
  }

  /**
   * The run on text files: lines, chunks or sliding windows, or with a sentence-pair task the
   * documents (one sentence per line, blank lines between documents), split into training and
   * validation.
   */
  private RunFolder.Builder<PretrainingJob.Result> textJob(boolean bert, SentencePairs.Task task,
      TrainingArguments args, Tokenizer tokenizer, ModelConfig modelConfig, int context, DistributedRuntime runtime)
      throws IOException {
    List<String> texts = task != null ? TextSource.sentenceDocuments(corpus) : TextSource.lines(corpus);
    List<String> trainTexts = texts;
    List<String> evalTexts;
    if (validation != null) {
      evalTexts = task != null ? TextSource.sentenceDocuments(validation) : TextSource.lines(validation);
    } else {
      TrainValidationSplit<String> split = TrainValidationSplit.of(texts, validationSplit, args.seed());
      trainTexts = split.train();
      evalTexts = split.validation();
    }
    LmDatasets.Mode datasetMode = mode != null ? LmDatasets.Mode.parse(mode) : bert ? LmDatasets.Mode.LINES
        : LmDatasets.Mode.CHUNKS;
    int windowStride = stride != null ? stride : Math.max(1, context / 2);
    List<String> train = trainTexts;
    return folder -> {
      try (ConsoleProgress progress = new ConsoleProgress(modelType)) {
        return PretrainingJob.run(new PretrainingJob.Spec(modelType, modelConfig, tokenizer, train, evalTexts,
            datasetMode, context, windowStride, args, folder, resume, LossWeighting.MEAN, task, dupeFactor),
            runtime.backend(), runtime.dataParallel(), progress);
      }
    };
  }

  /** {@code --data}: examples read from the memory-mapped shards (windows for GPT-2, packed documents for BERT). */
  private RunFolder.Builder<PretrainingJob.Result> shardJob(ShardDirectory shards, TrainingData trainingData,
      TrainingArguments args, Tokenizer tokenizer, ModelConfig modelConfig, int context, DistributedRuntime runtime) {
    TokenDataset train = ShardDirectory.examples(shards.train(), tokenizer, context);
    TokenDataset validationSet = shards.validation().isEmpty() ? null
        : ShardDirectory.examples(shards.validation(), tokenizer, context);
    TokenDataset eval = validationSet != null && validationSet.size() == 0 ? null : validationSet; // shorter than one
    return folder -> {
      try (ConsoleProgress progress = new ConsoleProgress(modelType)) {
        return PretrainingJob.run(new PretrainingJob.Spec(modelType, modelConfig, tokenizer, List.of(), List.of(), null,
            context, context, args, folder, resume, LossWeighting.MEAN).withData(trainingData),
            train, eval, runtime.backend(), runtime.dataParallel(), progress);
      }
    };
  }

  /** Rank 0 prints the outcome; every rank closes its model. */
  private void report(PretrainingJob.Result result, DistributedRuntime runtime) {
    try {
      EvalResult e = result.finalEval();
      if (runtime.dataParallel().isRoot()) {
        System.out.printf("trained %s: %s%nsaved to %s%n", modelType, e == null ? "no validation set"
            : String.format("validation loss %.4f, perplexity %.3f, accuracy %.4f", e.loss(), e.perplexity(),
                e.accuracy()) + (e.sentencePair() == null ? "" : String.format(", %s accuracy %.4f",
                    e.sentencePair().task().toUpperCase(java.util.Locale.ROOT), e.sentencePair().accuracy())),
            output);
      }
    } finally {
      result.model().close();
    }
  }

  /**
   * The sentence-pair task of an {@code --objective} value: null for mlm (or no value), NSP for
   * mlm+nsp, SOP for mlm+sop.
   *
   * @throws IllegalArgumentException for another value, or a sentence task on GPT-2 ({@code bert} false)
   */
  static SentencePairs.Task sentenceTask(String objective, boolean bert) {
    if (objective == null) {
      return null;
    }
    SentencePairs.Task task = switch (objective) {
      case "mlm" -> null;
      case "mlm+nsp" -> SentencePairs.Task.NSP;
      case "mlm+sop" -> SentencePairs.Task.SOP;
      default -> throw new IllegalArgumentException("--objective must be mlm, mlm+nsp or mlm+sop (got '" + objective
          + "')");
    };
    if (!bert) {
      throw new IllegalArgumentException("--objective applies to BERT models; GPT-2 trains the causal LM objective");
    }
    return task;
  }

  /** The range of every numeric flag, and the flags --resume excludes, before any work. */
  private void checkFlags() {
    Flags.runMode(spec, resume, overwrite);
    Flags.inRange(spec, "--vocab-size", vocabSize, 1, ModelConfigs.MAX_VOCAB);
    if (stride != null) {
      Flags.inRange(spec, "--stride", stride, 1, Integer.MAX_VALUE);
    }
    if (contextLength != null) {
      Flags.inRange(spec, "--context-length", contextLength, 2, ModelConfigs.MAX_POSITIONS);
    }
    Flags.inRange(spec, "--validation-split", validationSplit, 0, true, 1, false);
    Flags.inRange(spec, "--dupe-factor", dupeFactor, 1, 10_000);
    if (resume && tokenizerChoice != null) {
      throw Flags.usage(spec, "--resume continues with the tokenizer saved in " + output.resolve("checkpoint")
          + "; drop " + (tokenizerChoice.train ? "--train-tokenizer" : "--tokenizer"));
    }
    if (!resume && tokenizerChoice == null) {
      throw Flags.usage(spec, "give --tokenizer PATH or --train-tokenizer (a run continued with --resume uses its"
          + " checkpoint's tokenizer)");
    }
  }

  private Tokenizer tokenizer(boolean bert) throws IOException {
    if (tokenizerChoice.path != null) {
      return Tokenizers.load(tokenizerChoice.path);
    }
    Tokenizer trained = bert ? TokenizerTrainer.trainWordPiece(corpus, TrainerOptions.wordPiece(vocabSize))
        : TokenizerTrainer.trainByteLevelBpe(corpus, TrainerOptions.byteLevelBpe(vocabSize));
    if (trained.vocabSize() < vocabSize) {
      LOG.warn("the corpus yields only {} tokens, fewer than --vocab-size {}: the model's vocab_size is {}",
          trained.vocabSize(), vocabSize, trained.vocabSize());
    }
    return trained;
  }

  /**
   * Defaults of the architecture (HF's), the config file's model keys, and the tokenizer's vocabulary
   * and specials (GPT-2's bos/eos, BERT's pad_token_id, which pre-LN position ids count from); a
   * resumed run starts from its checkpoint's config.json instead of the defaults.
   */
  private ModelConfig modelConfig(JsonNode settings, List<String> unknown, Tokenizer tokenizer, Path checkpoint)
      throws IOException {
    ModelConfig defaults = checkpoint != null ? ModelConfigs.read(checkpoint) : switch (modelType) {
      case BertConfig.MODEL_TYPE -> bertDefaults(BertConfig.bertBase(), tokenizer);
      case BertConfig.PRE_LAYER_NORM_MODEL_TYPE -> bertDefaults(BertConfig.robertaPreLayerNorm(), tokenizer);
      default -> gpt2Defaults(tokenizer);
    };
    if (!defaults.modelType().equals(modelType)) {
      throw new IllegalArgumentException("--model " + modelType + " but " + checkpoint + " holds a "
          + defaults.modelType() + " model");
    }
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
    ModelConfig merged = ModelConfigs.merge(defaults, keys, source);
    if (checkpoint == null && merged instanceof Gpt2Config gpt2 && gpt2.eosTokenId() == null) {
      LOG.warn("the tokenizer has no end-of-text token: eos_token_id stays unset, so generation of this model"
          + " stops only at --max-new-tokens");
    }
    return merged;
  }

  private static BertConfig bertDefaults(BertConfig base, Tokenizer tokenizer) {
    String pad = tokenizer.specialTokens().pad();
    OptionalInt id = pad == null ? OptionalInt.empty() : tokenizer.tokenToId(pad);
    BertConfig c = base.withVocabSize(tokenizer.vocabSize());
    return id.isPresent() ? c.withPadTokenId(id.getAsInt()) : c;
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
      throw new java.nio.file.NoSuchFileException(file.toString(), null, "config file not found (--config)");
    }
    return StrictJson.readObject(file);
  }
}
