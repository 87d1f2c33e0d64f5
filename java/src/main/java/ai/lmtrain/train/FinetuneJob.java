package ai.lmtrain.train;

import ai.lmtrain.data.ClassificationExamples;
import ai.lmtrain.data.DataLoader;
import ai.lmtrain.data.LabelledText;
import ai.lmtrain.models.ModelConfigs;
import ai.lmtrain.models.ProblemType;
import ai.lmtrain.models.SequenceClassification;
import ai.lmtrain.models.SequenceClassifier;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tokenizers.Tokenizer;
import ai.lmtrain.tokenizers.Tokenizers;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One fine-tuning run: a BERT or GPT-2 folder (ours or Hugging Face's) becomes a sequence
 * classifier trained on labelled text, with the {@link Trainer} of pre-training. The output folder:
 * <pre>
 *   DIR/model.safetensors, config.json, tokenizer.json ...   the classifier (Hugging Face layout, id2label ...)
 *   DIR/best/                                                the best model by metric_for_best_model
 *   DIR/checkpoint/                                          the latest resumable training state
 *   DIR/metrics.jsonl, DIR/loss.png, DIR/confusion.png       metrics, loss plot, final confusion matrix
 *   DIR/runs/DATE_HOST/events.out.tfevents.*                 TensorBoard scalars (report_to)
 * </pre>
 * The folder follows the rules of {@link RunFolder}, as a pre-training run's does: a new run goes into
 * a new or empty folder (marked by {@value RunFolder#MANIFEST}), a resumed one continues the run there,
 * and a new run that fails before its first step leaves nothing behind.
 */
public final class FinetuneJob {
  private static final Logger LOG = LoggerFactory.getLogger(FinetuneJob.class);

  /**
   * Everything a run needs.
   *
   * @param baseModel the folder to start from (ignored on resume)
   * @param train training rows
   * @param eval validation rows (may be empty: no evaluation)
   * @param labelColumn the label column, for messages
   * @param numLabels num_labels from the settings, or null
   * @param problemType problem_type from the settings, or null
   * @param classifierDropout classifier_dropout from the settings (BERT), or null
   * @param maxLength tokens per example (0: the smaller of 128 and the model's positions)
   * @param args training hyper-parameters
   * @param outputDir where everything is written: a new or empty folder, or with {@code resume} the run
   * @param resume continue from {@code outputDir/checkpoint}
   */
  public record Spec(Path baseModel, List<LabelledText> train, List<LabelledText> eval, String labelColumn,
      Integer numLabels, ProblemType problemType, Double classifierDropout, int maxLength, TrainingArguments args,
      Path outputDir, boolean resume) {}

  /**
   * What the run produced.
   *
   * @param model the trained classifier (caller closes it)
   * @param tokenizer its tokenizer
   * @param finalEval evaluation at the end, or null without a validation set
   * @param events every metrics event of the run
   * @param initialized parameters that were initialised rather than loaded from the base folder
   */
  public record Result(SequenceClassifier model, Tokenizer tokenizer, EvalResult finalEval, List<MetricsEvent> events,
      List<String> initialized) {}

  private FinetuneJob() {}

  /** Runs {@code spec} on {@code backend}; {@code display} also observes the trainer (progress output). */
  public static Result run(Spec spec, Backend backend, TrainingListener display) throws IOException {
    TrainingArguments args = spec.args();
    Path checkpoint = spec.resume() ? PretrainingJob.checkpointToResume(spec.outputDir())
        : spec.outputDir().resolve("checkpoint");
    Path source = spec.resume() ? checkpoint : spec.baseModel();
    Tokenizer tokenizer = Tokenizers.load(source);
    Path configFile = source.resolve(ModelConfigs.CONFIG_FILE);
    boolean gpt2 = ModelConfigs.read(source) instanceof ai.lmtrain.models.Gpt2Config;
    SequenceClassification fromModel = ModelConfigs.architecture(configFile).endsWith("ForSequenceClassification")
        ? ModelConfigs.readClassification(configFile) : null;
    SequenceClassification head = ClassificationLabels.head(fromModel, spec.train(), spec.labelColumn(),
        spec.numLabels(), spec.problemType(), spec.classifierDropout(), configFile.toString());
    if (gpt2 && head.padTokenId() == null) {
      head = head.withPadTokenId(gpt2PadId(tokenizer, source));
    }
    SequenceClassification finalHead = head;

    List<String> initialized = new ArrayList<>();
    SequenceClassifier model = spec.resume()
        ? Checkpoints.loadClassifier(checkpoint, backend, args.precision().computeType())
        : Checkpoints.loadClassifierBase(spec.baseModel(), head, backend, args.precision().computeType(), args.seed(),
            initialized);
    boolean created = false;
    boolean stepped = false;
    try {
      if (!initialized.isEmpty()) {
        LOG.info("newly initialised (not in {}): {}", spec.baseModel(), initialized);
      }
      int maxLength = spec.maxLength() > 0 ? spec.maxLength() : Math.min(128, model.maxPositions());
      if (maxLength > model.maxPositions()) {
        throw new IllegalArgumentException("--max-length " + maxLength + " exceeds the model's " + model.maxPositions()
            + " positions");
      }
      ClassificationExamples trainSet = ClassificationExamples.encode(tokenizer, spec.train(), maxLength, !gpt2,
          row -> ClassificationLabels.targets(finalHead, row, spec.labelColumn()));
      DataLoader train = new DataLoader(trainSet, ClassificationExamples.collator(model.padId()), args.trainBatchSize(), true,
          args.seed(), false);
      DataLoader eval = spec.eval().isEmpty() ? null : new DataLoader(ClassificationExamples.encode(tokenizer,
          spec.eval(), maxLength, !gpt2, row -> ClassificationLabels.targets(finalHead, row, spec.labelColumn())),
          ClassificationExamples.collator(model.padId()), args.evalBatchSize(), false, args.seed() + 1, false);
      String runName = model.modelType() + "-classifier";
      List<MetricsEvent> events = new ArrayList<>();
      created = RunFolder.begin(spec.outputDir(), spec.resume() ? RunFolder.Mode.RESUME : RunFolder.Mode.NEW,
          "finetune");
      if (spec.resume()) { // the metrics logged after the checkpoint are logged again
        MetricsLog.truncateAfterStep(spec.outputDir().resolve(MetricsLog.FILE_NAME), Checkpoints.savedStep(checkpoint));
      }
      try (MetricsLog metrics = MetricsLog.open(spec.outputDir().resolve(MetricsLog.FILE_NAME));
          TensorBoardLog tensorBoard = RunRecorder.openTensorBoard(args, spec.outputDir(),
              spec.resume() ? Checkpoints.savedStep(checkpoint) : 0);
          Trainer trainer = new Trainer(new ClassificationObjective(model), args, train, eval,
              new RunRecorder(runName, spec.outputDir(), model, tokenizer, null, metrics, events, tensorBoard, false,
                  null, display))) {
        if (spec.resume()) {
          Checkpoints.restoreTraining(checkpoint, trainer);
          LOG.info("{}: resumed from {} at step {} of {}", runName, checkpoint, trainer.state().globalStep(),
              trainer.totalSteps());
        }
        LOG.info("{}: {} labels {} ({}), {} parameters, {} training examples, {} steps ({} per epoch), {} on {}",
            runName, head.numLabels(), head.labels(), head.problemType(), model.parameters().table().parameterCount(),
            trainSet.size(), trainer.totalSteps(), trainer.stepsPerEpoch(), args.precision(), backend.device());
        try {
          trainer.train();
        } finally {
          stepped = trainer.state().globalStep() > 0;
        }
        EvalResult finalEval = eval == null ? null : trainer.evaluate();
        Checkpoints.saveModelFiles(spec.outputDir(), model, tokenizer);
        RunRecorder.plotLosses(runName, spec.outputDir(), MetricsLog.read(metrics.file()));
        if (finalEval != null && finalEval.classification() != null
            && finalEval.classification().confusionMatrix() != null && PlotSupport.available()) {
          ConfusionPlot.write(spec.outputDir().resolve("confusion.png"), finalEval.classification());
        }
        return new Result(model, tokenizer, finalEval, events, initialized);
      }
    } catch (IOException | RuntimeException e) {
      model.close();
      if (created && !stepped) {
        RunFolder.discard(spec.outputDir(), e); // a new run that failed before its first step leaves nothing behind
      }
      throw e;
    }
  }

  /** GPT-2 has no padding token: the tokenizer's pad token, else end-of-text, as is usual for GPT-2 classifiers. */
  private static int gpt2PadId(Tokenizer tokenizer, Path source) {
    for (String token : new String[] {tokenizer.specialTokens().pad(), tokenizer.specialTokens().eos()}) {
      OptionalInt id = token == null ? OptionalInt.empty() : tokenizer.tokenToId(token);
      if (id.isPresent()) {
        return id.getAsInt();
      }
    }
    throw new IllegalArgumentException("the tokenizer in " + source + " has neither a padding nor an end-of-text token,"
        + " so batches cannot be padded (set pad_token_id in config.json)");
  }
}
