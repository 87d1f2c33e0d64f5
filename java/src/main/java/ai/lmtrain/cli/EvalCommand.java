package ai.lmtrain.cli;

import ai.lmtrain.data.DataLoader;
import ai.lmtrain.data.TextSource;
import ai.lmtrain.models.BertForMaskedLM;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.tensor.Arena;
import ai.lmtrain.train.EvalResult;
import ai.lmtrain.train.Evaluation;
import ai.lmtrain.train.LmDatasets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lmtrain eval}: loss, perplexity (and MLM accuracy for BERT) of a model on a corpus. */
@Command(name = "eval", mixinStandardHelpOptions = true,
    description = "Evaluate a model on a corpus: loss, perplexity, and masked-token accuracy for BERT.")
final class EvalCommand implements Callable<Integer> {
  @Mixin LoadedModel model;

  @Option(names = "--corpus", required = true, arity = "1..*", paramLabel = "FILE", description = "UTF-8 text files, one example per line")
  List<Path> corpus;

  @Option(names = "--batch-size", defaultValue = "8", description = "batch size (default: ${DEFAULT-VALUE})")
  int batchSize;

  @Option(names = "--context-length", description = "tokens per example (default: the model's maximum, at most 512)")
  Integer contextLength;

  @Option(names = "--mode", defaultValue = "lines", description = "lines, chunks or sliding (default: ${DEFAULT-VALUE})")
  String mode;

  @Option(names = "--stride", description = "window step for --mode sliding (default: half the context length)")
  Integer stride;

  @Option(names = "--mlm-probability", defaultValue = "0.15", description = "masking probability for BERT (default: ${DEFAULT-VALUE})")
  double mlmProbability;

  @Option(names = "--seed", defaultValue = "42", description = "seed of the MLM masks (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--json", description = "print one JSON object {\"loss\", \"perplexity\", \"accuracy\", \"scored_tokens\"}")
  boolean json;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Flags.inRange(spec, "--batch-size", batchSize, 1, 1 << 16);
    Flags.inRange(spec, "--mlm-probability", mlmProbability, 0, false, 1, false);
    if (stride != null) {
      Flags.inRange(spec, "--stride", stride, 1, Integer.MAX_VALUE);
    }
    LmDatasets.Mode datasetMode = LmDatasets.Mode.parse(mode);
    try (LoadedModel.Open<LanguageModel> open = model.open(); Arena arena = new Arena(open.backend(), 16 << 20)) {
      boolean mlm = open.model() instanceof BertForMaskedLM;
      int context = contextLength != null ? Flags.inRange(spec, "--context-length", contextLength, 2,
          open.model().maxPositions()) : Math.min(512, open.model().maxPositions());
      DataLoader loader = new DataLoader(LmDatasets.dataset(open.tokenizer(), TextSource.lines(corpus),
          datasetMode, context, stride != null ? stride : Math.max(1, context / 2), mlm),
          LmDatasets.collator(open.tokenizer(), mlm, mlmProbability), batchSize, false, seed, false);
      EvalResult r = Evaluation.run(open.model(), loader, arena);
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("loss", r.loss());
      out.put("perplexity", r.perplexity());
      out.put(mlm ? "mlm_accuracy" : "next_token_accuracy", r.accuracy());
      out.put("scored_tokens", r.scoredPositions());
      if (json) {
        JsonOut.print(out);
      } else {
        out.forEach((k, v) -> System.out.printf("%-20s %s%n", k, v instanceof Double d ? String.format("%.4f", d) : v));
      }
      return 0;
    }
  }
}
