package ai.lmtrain.cli;

import ai.lmtrain.data.LabelledText;
import ai.lmtrain.data.LabelledTextFile;
import ai.lmtrain.data.TrainValidationSplit;
import ai.lmtrain.models.ModelConfigs;
import ai.lmtrain.models.ProblemType;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.Backends;
import ai.lmtrain.tensor.Device;
import ai.lmtrain.train.EvalResult;
import ai.lmtrain.train.FinetuneJob;
import ai.lmtrain.train.RunFolder;
import ai.lmtrain.train.TrainingArguments;
import ai.lmtrain.train.dist.Launch;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lmtrain finetune}: fine-tunes a BERT or GPT-2 folder (ours or Hugging Face's) into a
 * sequence classifier on labelled CSV, TSV or JSONL text. {@code --config} holds Hugging Face
 * TrainingArguments keys and the head's keys (num_labels, problem_type, classifier_dropout).
 */
@Command(name = "finetune", mixinStandardHelpOptions = true,
    description = "Fine-tune a BERT or GPT-2 model into a sequence classifier on labelled text (CSV, TSV or JSONL).")
final class FinetuneCommand implements Callable<Integer> {
  private static final Set<String> HEAD_KEYS = Set.of("num_labels", "problem_type", "classifier_dropout");

  @Option(names = "--model", required = true, paramLabel = "DIR",
      description = "the base model folder: a BERT or GPT-2 saved here or by transformers")
  Path model;

  @Option(names = "--train", required = true, paramLabel = "FILE", description = "labelled training text (.csv, .tsv or .jsonl)")
  Path train;

  @Option(names = "--validation", paramLabel = "FILE", description = "labelled validation text (instead of a split)")
  Path validation;

  @Option(names = "--validation-split", defaultValue = "0.1",
      description = "share of the training rows held out for validation without --validation (default: ${DEFAULT-VALUE})")
  double validationSplit;

  @Option(names = "--text-column", required = true, paramLabel = "C", description = "the column (JSON key) of the text")
  String textColumn;

  @Option(names = "--text-pair-column", paramLabel = "C2", description = "the column of a second text (sentence pairs)")
  String textPairColumn;

  @Option(names = "--label-column", required = true, paramLabel = "L", description = "the column of the label")
  String labelColumn;

  @Option(names = "--output", required = true, paramLabel = "DIR", description = "output folder")
  Path output;

  @Option(names = "--config", paramLabel = "FILE.json", description = "training settings and head keys (HF key names)")
  Path config;

  @Option(names = "--max-length", defaultValue = "0",
      description = "tokens per example, longer texts truncated (default: the smaller of 128 and the model's positions)")
  int maxLength;

  @Option(names = "--resume", description = "continue from DIR/checkpoint with the same settings")
  boolean resume;

  @Option(names = "--overwrite", description = "replace the run in DIR: the new run is built beside it and swapped in"
      + " when complete")
  boolean overwrite;

  @Spec CommandSpec spec;

  @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda[:N] (default: ${DEFAULT-VALUE})")
  String device;

  @Option(names = "--precision", description = "fp32, bf16 or fp16 (overrides the config)")
  String precision;

  @Option(names = "--logging-dir", paramLabel = "DIR",
      description = "TensorBoard event files (default: DIR/runs/DATE_HOST; report_to \"none\" in --config turns them off)")
  Path loggingDir;

  @Override
  public Integer call() throws Exception {
    if (Launch.detect(System.getenv()).distributed()) {
      throw new IllegalArgumentException("finetune runs in one process (data-parallel training is 'train'): start it"
          + " without mpirun, srun or lmtrain launch");
    }
    RunFolder.Mode mode = Flags.runMode(spec, resume, overwrite);
    Flags.inRange(spec, "--validation-split", validationSplit, 0, true, 1, false);
    Flags.inRange(spec, "--max-length", maxLength, 0, ModelConfigs.MAX_POSITIONS);
    JsonNode settings = config == null ? JsonOut.MAPPER.createObjectNode() : TrainCommand.readConfig(config);
    List<String> unknown = new ArrayList<>();
    TrainingArguments args = TrainingArguments.defaults().with(settings, unknown);
    for (String key : unknown) {
      if (!HEAD_KEYS.contains(key)) {
        throw new IllegalArgumentException("unknown key '" + key + "' in " + config + " (expected TrainingArguments keys "
            + TrainingArguments.keys() + " or classification keys " + new TreeSet<>(HEAD_KEYS) + ")");
      }
    }
    args = TrainCommand.withOverrides(args, precision, loggingDir);
    List<LabelledText> rows = LabelledTextFile.read(train, textColumn, textPairColumn, labelColumn);
    List<LabelledText> trainRows = rows;
    List<LabelledText> evalRows;
    if (validation != null) {
      evalRows = LabelledTextFile.read(validation, textColumn, textPairColumn, labelColumn);
    } else {
      TrainValidationSplit<LabelledText> split = TrainValidationSplit.of(rows, validationSplit, args.seed());
      trainRows = split.train();
      evalRows = split.validation();
    }
    Integer numLabels = settings.hasNonNull("num_labels") ? intSetting(settings, "num_labels") : null;
    ProblemType problemType = settings.hasNonNull("problem_type")
        ? ProblemType.parse(textSetting(settings, "problem_type")) : null;
    Double classifierDropout = settings.hasNonNull("classifier_dropout")
        ? numberSetting(settings, "classifier_dropout") : null;
    TrainingArguments runArgs = args;
    List<LabelledText> runRows = trainRows;
    try (RunFolder.Claim folder = RunFolder.claim(output, mode, "finetune");
        Backend backend = Backends.open(Device.parse(device));
        ConsoleProgress progress = new ConsoleProgress("finetune")) {
      FinetuneJob.Result result = folder.build(dir -> FinetuneJob.run(new FinetuneJob.Spec(model, runRows, evalRows,
          labelColumn, numLabels, problemType, classifierDropout, maxLength, runArgs, dir, resume), backend, progress));
      try {
        EvalResult e = result.finalEval();
        if (e == null) {
          System.out.printf("fine-tuned %s: no validation set%n", result.model().modelType());
        } else if (e.classification() == null) {
          System.out.printf("fine-tuned %s: validation loss (mean squared error) %.4f%n", result.model().modelType(),
              e.loss());
        } else {
          System.out.printf("fine-tuned %s: validation loss %.4f, accuracy %.4f, macro-F1 %.4f%n%s",
              result.model().modelType(), e.loss(), e.accuracy(), e.classification().macroF1(),
              e.classification().describe());
        }
        System.out.printf("saved to %s%n", output);
      } finally {
        result.model().close();
      }
    }
    return 0;
  }

  private String textSetting(JsonNode settings, String key) {
    JsonNode v = settings.get(key);
    if (!v.isTextual()) {
      throw new IllegalArgumentException("config key '" + key + "' in " + config + ": expected a string, got " + v);
    }
    return v.asText();
  }

  private double numberSetting(JsonNode settings, String key) {
    JsonNode v = settings.get(key);
    if (!v.isNumber()) {
      throw new IllegalArgumentException("config key '" + key + "' in " + config + ": expected a number, got " + v);
    }
    return v.asDouble();
  }

  private int intSetting(JsonNode settings, String key) {
    JsonNode v = settings.get(key);
    if (!v.canConvertToInt() || v.isFloatingPointNumber() || v.asInt() < 1) {
      throw new IllegalArgumentException("config key '" + key + "' in " + config + ": expected a positive integer, got "
          + v);
    }
    return v.asInt();
  }
}
