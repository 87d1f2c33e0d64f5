package ai.lmtrain.train;

import ai.lmtrain.data.Collator;
import ai.lmtrain.data.DataLoader;
import ai.lmtrain.data.LoaderState;
import ai.lmtrain.data.MlmCollator;
import ai.lmtrain.data.SentencePairs;
import ai.lmtrain.data.TokenDataset;
import ai.lmtrain.io.CheckpointWriter;
import ai.lmtrain.io.FileFormatException;
import ai.lmtrain.models.BertConfig;
import ai.lmtrain.models.BertForPreTraining;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.ModelConfig;
import ai.lmtrain.models.ModelConfigs;
import ai.lmtrain.models.ParameterLayouts;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tokenizers.Tokenizer;
import ai.lmtrain.train.dist.DataParallel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pre-training run from texts to a saved model: datasets and collator (MLM for BERT, CLM for
 * GPT-2; for BERT with a sentence-pair task, {@link SentencePairs} examples of the documents and
 * the MLM collator), the model (new, or resumed from the run's checkpoint), the {@link Trainer}, and
 * the output folder:
 * <pre>
 *   DIR/model.safetensors, config.json, tokenizer.json ...   the final model (Hugging Face layout)
 *   DIR/best/                                                the model with the lowest eval loss
 *   DIR/checkpoint/                                          the latest resumable training state
 *   DIR/metrics.jsonl, DIR/loss.png                          metrics and the loss plot
 *   DIR/runs/DATE_HOST/events.out.tfevents.*                 TensorBoard scalars and samples (report_to)
 * </pre>
 */
public final class PretrainingJob {
  private static final Logger LOG = LoggerFactory.getLogger(PretrainingJob.class);

  /**
   * Everything a run needs.
   *
   * @param runName name in metrics and plots ("bert", "gpt2", ...)
   * @param config the model architecture (vocab_size must cover the tokenizer)
   * @param tokenizer the tokenizer (saved with the model)
   * @param trainTexts training texts
   * @param evalTexts validation texts (may be empty: no evaluation)
   * @param mode dataset construction
   * @param contextLength tokens per example (at most the model's positions)
   * @param stride window step for {@link LmDatasets.Mode#SLIDING}
   * @param args training hyper-parameters
   * @param outputDir where everything is written
   * @param resume continue from {@code outputDir/checkpoint}
   * @param weighting the loss weighting hook
   * @param sentenceTask BERT's sentence-pair task (next sentence or sentence order prediction), or
   *     null for the language-modelling loss alone; with a task, the texts are documents (their
   *     lines are sentences, see {@link ai.lmtrain.data.TextSource#sentenceDocuments}), mode and
   *     stride do not apply, and the model is a {@link BertForPreTraining}
   * @param dupeFactor with a sentence-pair task: how many times the pairs are drawn from every
   *     document (create_pretraining_data.py's dupe_factor)
   * @param data what the run trains on, recorded in its checkpoints; a resumed run must train on
   *     what its checkpoint recorded
   */
  public record Spec(String runName, ModelConfig config, Tokenizer tokenizer, List<String> trainTexts,
      List<String> evalTexts, LmDatasets.Mode mode, int contextLength, int stride, TrainingArguments args, Path outputDir,
      boolean resume, LossWeighting weighting, SentencePairs.Task sentenceTask, int dupeFactor, TrainingData data) {

    /** Checks that the data is named. */
    public Spec {
      Objects.requireNonNull(data, "data");
    }

    /** A run on text files. */
    public Spec(String runName, ModelConfig config, Tokenizer tokenizer, List<String> trainTexts,
        List<String> evalTexts, LmDatasets.Mode mode, int contextLength, int stride, TrainingArguments args,
        Path outputDir, boolean resume, LossWeighting weighting, SentencePairs.Task sentenceTask, int dupeFactor) {
      this(runName, config, tokenizer, trainTexts, evalTexts, mode, contextLength, stride, args, outputDir, resume,
          weighting, sentenceTask, dupeFactor, TrainingData.TEXT);
    }

    /** A language-modelling run (no sentence-pair task). */
    public Spec(String runName, ModelConfig config, Tokenizer tokenizer, List<String> trainTexts,
        List<String> evalTexts, LmDatasets.Mode mode, int contextLength, int stride, TrainingArguments args,
        Path outputDir, boolean resume, LossWeighting weighting) {
      this(runName, config, tokenizer, trainTexts, evalTexts, mode, contextLength, stride, args, outputDir, resume,
          weighting, null, 1);
    }

    /** This spec training on {@code other} data (token shards, for {@code train --data}). */
    public Spec withData(TrainingData other) {
      return new Spec(runName, config, tokenizer, trainTexts, evalTexts, mode, contextLength, stride, args, outputDir,
          resume, weighting, sentenceTask, dupeFactor, other);
    }
  }

  /**
   * What the run produced.
   *
   * @param model the trained model (caller closes it)
   * @param finalEval evaluation at the end, or null without an evaluation set
   * @param events every metrics event of the run
   */
  public record Result(LanguageModel model, EvalResult finalEval, List<MetricsEvent> events) {}

  private PretrainingJob() {}

  /** Runs {@code spec} on {@code backend}; {@code display} also observes the trainer (progress output). */
  public static Result run(Spec spec, Backend backend, TrainingListener display) throws IOException {
    return run(spec, backend, DataParallel.SINGLE, display);
  }

  /**
   * Runs {@code spec} as one rank of a data-parallel job: every rank reads the same data, builds
   * the same model and trains its share of each global batch (per_device_train_batch_size x world
   * size); rank 0 alone writes the output folder (metrics, plots, checkpoints, the final model).
   * A checkpoint resumes at any world size that keeps the global batch.
   */
  public static Result run(Spec spec, Backend backend, DataParallel parallel, TrainingListener display)
      throws IOException {
    if (spec.trainTexts().isEmpty()) {
      throw new IllegalArgumentException("no training text");
    }
    validate(spec);
    SentencePairs.Task task = spec.sentenceTask();
    if (task != null) {
      long seed = spec.args().seed();
      TokenDataset trainSet = SentencePairs.examples(spec.tokenizer(), spec.trainTexts(), spec.contextLength(), task,
          spec.dupeFactor(), seed);
      TokenDataset evalSet = spec.evalTexts().isEmpty() ? null : SentencePairs.examples(spec.tokenizer(),
          spec.evalTexts(), spec.contextLength(), task, spec.dupeFactor(), seed + 1);
      return run(spec, trainSet, evalSet, backend, display);
    }
    boolean mlm = spec.config() instanceof BertConfig;
    TokenDataset trainSet = LmDatasets.dataset(spec.tokenizer(), spec.trainTexts(), spec.mode(), spec.contextLength(),
        spec.stride(), mlm);
    TokenDataset evalSet = spec.evalTexts().isEmpty() ? null
        : LmDatasets.dataset(spec.tokenizer(), spec.evalTexts(), spec.mode(), spec.contextLength(), spec.stride(), mlm);
    return run(spec, trainSet, evalSet, backend, parallel, display);
  }

  /**
   * Runs {@code spec} on examples made elsewhere (windows or packed documents of token shards, for
   * {@code train --data}; sentence pairs in the layout of {@link SentencePairs#examples} for a
   * sentence-pair task); the spec's texts, mode and stride are not used.
   *
   * @param evalSet the validation examples, or null for none
   */
  public static Result run(Spec spec, TokenDataset trainSet, TokenDataset evalSet, Backend backend,
      TrainingListener display) throws IOException {
    return run(spec, trainSet, evalSet, backend, DataParallel.SINGLE, display);
  }

  /** {@link #run(Spec, TokenDataset, TokenDataset, Backend, TrainingListener)} as one rank of {@code parallel}. */
  public static Result run(Spec spec, TokenDataset trainSet, TokenDataset evalSet, Backend backend,
      DataParallel parallel, TrainingListener display) throws IOException {
    validate(spec);
    boolean root = parallel.isRoot();
    TrainingArguments args = spec.args();
    boolean mlm = spec.config() instanceof BertConfig;
    SentencePairs.Task task = spec.sentenceTask();
    if (task != null && parallel.distributed()) {
      throw new IllegalArgumentException("--objective mlm+" + task.key() + " trains in a single process only (this"
          + " launch has " + parallel.worldSize() + " ranks); drop the multi-process launch or use --objective mlm");
    }
    Collator collator = task == null ? LmDatasets.collator(spec.tokenizer(), mlm, args.mlmProbability())
        : SentencePairs.collator(MlmCollator.forTokenizer(spec.tokenizer()).withProbability(args.mlmProbability()));
    int ranks = parallel.worldSize();
    DataLoader train = new DataLoader(trainSet, collator, args.trainBatchSize() * ranks, true, args.seed(), false);
    DataLoader eval = evalSet == null ? null
        : new DataLoader(evalSet, collator, args.evalBatchSize() * ranks, false, args.seed() + 1, false);
    requireData(spec, train, eval, mlm);
    Path dir = spec.outputDir();
    // The run folder is rank 0's: it alone creates, repairs and writes it; the others read a
    // resumed checkpoint once rank 0 has repaired it (the agreement below orders that).
    boolean created = root && RunFolder.begin(dir, spec.resume() ? RunFolder.Mode.RESUME : RunFolder.Mode.NEW, "train");
    boolean[] stepped = {false};
    LanguageModel model = null;
    try {
      Path checkpoint = spec.resume() && root ? prepareResume(spec) : dir.resolve("checkpoint");
      parallel.agree();
      model = spec.resume()
          ? (task != null ? Checkpoints.loadPreTraining(checkpoint, backend, args.precision().computeType())
              : Checkpoints.loadModel(checkpoint, backend, args.precision().computeType()))
          : newModel(spec.config(), task != null, backend, args);
      LanguageModel trained = model;
      TrainingObjective objective = task != null ? new SentencePairObjective((BertForPreTraining) model, task)
          : new LanguageModelObjective(model, spec.weighting());
      // documents (sentence pairs): their first sentences make the TensorBoard samples
      List<String> sampleTexts = task == null ? spec.evalTexts()
          : spec.evalTexts().stream().map(d -> d.lines().findFirst().orElse(d)).toList();
      List<MetricsEvent> events = new ArrayList<>();
      try (MetricsLog metrics = root ? MetricsLog.open(dir.resolve(MetricsLog.FILE_NAME)) : null;
          TensorBoardLog tensorBoard = root ? RunRecorder.openTensorBoard(args, dir,
              spec.resume() ? Checkpoints.savedStep(checkpoint) : 0) : null;
          Trainer trainer = new Trainer(objective, args, train, eval,
              root ? new RunRecorder(spec.runName(), dir, model, spec.tokenizer(), spec.data(), metrics, events,
                  tensorBoard, mlm, step -> EvalSamples.describe(trained, spec.tokenizer(), sampleTexts), display)
                  : new TrainingListener() {}, parallel)) {
        try {
          if (spec.resume()) {
            Checkpoints.restoreTraining(checkpoint, trainer);
            if (root) {
              LOG.info("{}: resumed from {} at step {} of {}", spec.runName(), checkpoint,
                  trainer.state().globalStep(), trainer.totalSteps());
            }
          }
          parallel.start(model.parameters());
          if (root) {
            LOG.info("{}: {} parameters, {} training examples, {} steps ({} per epoch), {} on {}{}", spec.runName(),
                model.parameters().table().parameterCount(), trainSet.size(), trainer.totalSteps(),
                trainer.stepsPerEpoch(), args.precision(), backend.device(), ranks == 1 ? ""
                    : " x " + ranks + " ranks (global batch " + args.trainBatchSize() * ranks + ")");
          }
          trainer.train();
          EvalResult finalEval = eval == null ? null : trainer.evaluate();
          if (root) {
            Checkpoints.saveModelFiles(dir, model, spec.tokenizer());
            RunRecorder.plotLosses(spec.runName(), dir, MetricsLog.read(metrics.file()));
          }
          return new Result(model, finalEval, events);
        } finally {
          stepped[0] = trainer.state().globalStep() > 0;
        }
      }
    } catch (IOException | RuntimeException e) {
      if (model != null) {
        model.close();
      }
      if (created && !stepped[0]) {
        RunFolder.discard(dir, e);
      }
      throw e;
    }
  }

  /**
   * The checkpoint a resumed run in {@code outputDir} continues from, after repairing an interrupted
   * save of its checkpoint/ and best/ folders (see {@link CheckpointWriter#recover}).
   *
   * @throws IllegalArgumentException when the run has no checkpoint
   */
  public static Path checkpointToResume(Path outputDir) throws IOException {
    Path checkpoint = outputDir.resolve("checkpoint");
    CheckpointWriter.recover(checkpoint);
    CheckpointWriter.recover(outputDir.resolve("best"));
    if (!Files.isDirectory(checkpoint)) {
      throw new IllegalArgumentException("nothing to resume: " + checkpoint + " does not exist (the run stopped before"
          + " its first checkpoint; start it again with --overwrite)");
    }
    return checkpoint;
  }

  /**
   * Repairs an interrupted save of the run's checkpoint/ and best/, checks that the checkpoint holds
   * this run's model and trained on this run's data (a checkpoint that does not record its data is
   * resumed with a warning), and drops the metrics logged after it (they are logged again).
   *
   * @return the checkpoint folder
   */
  private static Path prepareResume(Spec spec) throws IOException {
    Path checkpoint = checkpointToResume(spec.outputDir());
    ModelConfig saved = ModelConfigs.read(checkpoint);
    if (!saved.equals(spec.config())) {
      throw new FileFormatException(checkpoint.resolve(ModelConfigs.CONFIG_FILE), "the checkpoint's model config"
          + " differs from this run's in " + ModelConfigs.differingKeys(saved, spec.config())
          + " (resume with the checkpoint's config)");
    }
    if (!requireSameData(checkpoint, spec.data())) {
      LOG.warn("{}: {} does not record the data it trained on (it predates that record), so whether this run reads"
          + " the same data cannot be checked", spec.runName(), checkpoint.resolve(Checkpoints.STATE_FILE));
    }
    Checkpoints.SavedState state = Checkpoints.readState(checkpoint);
    MetricsLog.truncateAfterStep(spec.outputDir().resolve(MetricsLog.FILE_NAME), state.state().globalStep());
    return checkpoint;
  }

  /**
   * Checks that a run on {@code data} may continue the training checkpoint {@code checkpoint}: the
   * data its trainer_state.json records must be the same kind (text files or token shards) and, for
   * shards, the same dataset ({@link ai.lmtrain.data.shards.DatasetIdentity#differenceFrom}).
   *
   * @return true when the checkpoint records its data (and it is {@code data}); false when it does
   *     not (written before lmtrain recorded it), so nothing could be checked
   * @throws IllegalArgumentException naming the folder and what differs
   */
  public static boolean requireSameData(Path checkpoint, TrainingData data) throws IOException {
    TrainingData saved = Checkpoints.readState(checkpoint).trainingData();
    if (saved == null) {
      return false;
    }
    String difference = data.differenceFrom(saved, checkpoint);
    if (difference != null) {
      throw new IllegalArgumentException(difference);
    }
    return true;
  }

  /**
   * Fails before anything is written when the data cannot train or evaluate the model: no training
   * batch, or an evaluation set without a single scored position (too little validation text for
   * the context length, lines of one token ...).
   */
  private static void requireData(Spec spec, DataLoader train, DataLoader eval, boolean mlm) {
    if (train.batchesPerEpoch() == 0) {
      throw new IllegalArgumentException("the training data gives no batch of " + spec.contextLength()
          + "-token examples (give more text, lower --context-length or use --mode lines)");
    }
    if (eval != null) {
      LoaderState start = eval.state();
      long scored = 0;
      while (eval.hasNext() && scored == 0) {
        // every sentence pair takes the sentence-pair loss
        scored += spec.sentenceTask() != null ? 1 : LmDatasets.scoredPositions(eval.next(), mlm);
      }
      eval.restore(start);
      if (scored == 0) {
        throw new IllegalArgumentException("the validation set gives no position to score with context length "
            + spec.contextLength() + " (give more validation text, lower --context-length, or use --mode lines)");
      }
    }
  }

  private static void validate(Spec spec) {
    if (spec.sentenceTask() != null && !(spec.config() instanceof BertConfig)) {
      throw new IllegalArgumentException("a sentence-pair task (" + spec.sentenceTask().key() + ") needs a BERT model,"
          + " not " + spec.config().modelType());
    }
    if (spec.tokenizer().vocabSize() > spec.config().vocabSize()) {
      throw new IllegalArgumentException("the tokenizer has " + spec.tokenizer().vocabSize()
          + " tokens but the model's vocab_size is " + spec.config().vocabSize() + " (vocab_size must be at least"
          + " the tokenizer's size)");
    }
    if (spec.contextLength() <= 1 || spec.contextLength() > spec.config().maxPositions()) {
      throw new IllegalArgumentException("context length " + spec.contextLength() + " must be in [2, "
          + spec.config().maxPositions() + "] (the model's maximum positions)");
    }
  }

  /**
   * A new, initialised model (with {@code preTraining}, BERT with both pre-training heads), after
   * checking that it fits the device (the message names the size keys).
   */
  private static LanguageModel newModel(ModelConfig config, boolean preTraining, Backend backend,
      TrainingArguments args) {
    ParameterLayouts.Layout layout = preTraining ? ParameterLayouts.preTraining((BertConfig) config)
        : ParameterLayouts.languageModel(config);
    ParameterLayouts.requireFits(config, layout.table(),
        Checkpoints.bytesPerElement(args.precision().computeType(), true), backend.memoryBytes(),
        backend.device().toString());
    LanguageModel model = preTraining
        ? new BertForPreTraining((BertConfig) config, backend, args.precision().computeType())
        : Checkpoints.newModel(config, backend, args.precision().computeType());
    model.initialize(args.seed());
    return model;
  }
}
