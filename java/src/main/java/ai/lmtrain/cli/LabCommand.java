package ai.lmtrain.cli;

import ai.lmtrain.data.TextSource;
import ai.lmtrain.infer.FillMask;
import ai.lmtrain.infer.Generator;
import ai.lmtrain.infer.SamplingConfig;
import ai.lmtrain.io.AtomicFiles;
import ai.lmtrain.models.BertConfig;
import ai.lmtrain.models.BertForMaskedLM;
import ai.lmtrain.models.Gpt2Config;
import ai.lmtrain.models.Gpt2LMHeadModel;
import ai.lmtrain.models.ModelConfig;
import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.Backends;
import ai.lmtrain.tensor.Device;
import ai.lmtrain.tokenizers.EncodeOptions;
import ai.lmtrain.tokenizers.Tokenizer;
import ai.lmtrain.tokenizers.TokenizerTrainer;
import ai.lmtrain.tokenizers.TrainerOptions;
import ai.lmtrain.train.EvalResult;
import ai.lmtrain.train.LmDatasets;
import ai.lmtrain.train.LossPlot;
import ai.lmtrain.train.PlotSupport;
import ai.lmtrain.train.LossWeighting;
import ai.lmtrain.train.MetricsEvent;
import ai.lmtrain.train.MetricsLog;
import ai.lmtrain.train.Precision;
import ai.lmtrain.train.PretrainingJob;
import ai.lmtrain.train.RunFolder;
import ai.lmtrain.train.TrainingArguments;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lmtrain lab}: the encoder-vs-decoder lab of the Hugging Face course, end to end. On the
 * bundled 30-sentence toy corpus repeated 20 times (first 90% train, last 10% validation), it
 * trains a WordPiece tokenizer (vocab 1000), a BERT masked LM and a GPT-2 causal LM (2 layers,
 * 128 hidden, 2 heads, context 64, 10 epochs, batch 8, lr 5e-4, warmup 50, weight decay 0.01),
 * prints a comparison, fill-mask and generation demos, and writes both models, the metrics and
 * the loss-comparison plot.
 *
 * <p>Three settings differ from Hugging Face's defaults, because with those a 2-layer BERT has
 * barely left the unigram stage after 680 steps (validation loss ~2.4, "the" as its top guess):
 * the learning rate stays at 5e-4 after warm-up (constant_with_warmup instead of linear decay),
 * dropout is 0 (the lab memorises a tiny corpus), and BERT masks 20% of tokens instead of 15%.
 * Both models use the same settings, so the comparison stays fair.
 */
@Command(name = "lab", mixinStandardHelpOptions = true,
    description = "Train a tokenizer, a BERT (MLM) and a GPT-2 (CLM) on the toy corpus, compare and demonstrate them.")
final class LabCommand implements Callable<Integer> {
  static final List<String> FILL_MASK_DEMOS = List.of("The lion is the [MASK] of the savanna.",
      "Elephants are the [MASK] land animals.", "The cheetah is the [MASK] land animal.");
  static final List<String> GENERATION_DEMOS = List.of("The lion is", "Elephants are", "The cheetah is the");

  @Option(names = "--output", defaultValue = "lab-output", paramLabel = "DIR", description = "output folder (default: ${DEFAULT-VALUE})")
  Path output;

  @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda[:N] (default: ${DEFAULT-VALUE})")
  String device;

  @Option(names = "--precision", defaultValue = "fp32", description = "fp32, bf16 or fp16 (default: ${DEFAULT-VALUE})")
  String precision;

  @Option(names = "--epochs", defaultValue = "10", description = "training epochs (default: ${DEFAULT-VALUE})")
  int epochs;

  @Option(names = "--seed", defaultValue = "42", description = "random seed (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--overwrite", description = "replace an earlier lab run in DIR: the new one is built beside it and"
      + " swapped in when complete")
  boolean overwrite;

  @Option(names = "--json", description = "print one JSON object {device, precision, seed, epochs, output, runs: "
      + "{bert, gpt2}, fill_mask, generation} on stdout; the report goes to stderr")
  boolean json;

  @Spec CommandSpec spec;

  /** Where the human-readable report goes: stdout, or stderr when stdout carries the JSON object. */
  private PrintStream report;

  @Override
  public Integer call() throws Exception {
    report = json ? System.err : System.out;
    Flags.inRange(spec, "--epochs", epochs, 1, 10_000);
    Precision.parse(precision);
    try (RunFolder.Claim folder = RunFolder.claim(output, RunFolder.Mode.of(false, overwrite), "lab");
        Backend backend = Backends.open(Device.parse(device))) {
      return folder.build(dir -> run(backend, dir));
    }
  }

  /** The lab into {@code dir} (the output folder, or the folder an --overwrite builds); a failure leaves nothing. */
  private int run(Backend backend, Path dir) throws IOException {
    RunFolder.begin(dir, RunFolder.Mode.NEW, "lab");
    try {
      return runLab(backend, dir);
    } catch (IOException | RuntimeException e) {
      RunFolder.discard(dir, e);
      throw e;
    }
  }

  private int runLab(Backend backend, Path dir) throws IOException {
    List<String> corpus = corpus();
    int trainSize = (int) (0.9 * corpus.size());
    List<String> train = corpus.subList(0, trainSize);
    List<String> validation = corpus.subList(trainSize, corpus.size());
    report.printf("Toy corpus: %d sentences (%d train, %d validation)%n", corpus.size(), train.size(),
        validation.size());

    Path corpusFile = dir.resolve("toy_corpus.txt");
    AtomicFiles.writeString(corpusFile, String.join("\n", corpus) + "\n");
    long start = System.nanoTime();
    Tokenizer tokenizer = TokenizerTrainer.trainWordPiece(List.of(corpusFile), TrainerOptions.wordPiece(1000));
    report.printf("WordPiece tokenizer: %d tokens (trained in %.2f s)%n", tokenizer.vocabSize(),
        (System.nanoTime() - start) / 1e9);
    report.println("  \"The lion is the king of the savanna.\" -> " + String.join(" ",
        tokenizer.encode("The lion is the king of the savanna.").tokens()));

    int vocab = tokenizer.vocabSize();
    BertConfig bertConfig = bertConfig(tokenizer);
    Gpt2Config gptConfig = new Gpt2Config(vocab, 64, 128, 2, 2, null, "gelu_new", 0.0, 0.0, 0.0, 1e-5, 0.02, true,
        false, null, null, true);
    TrainingArguments args = arguments(epochs, seed, Precision.parse(precision));

    Map<String, Object> summary;
    Run bert = train("bert", bertConfig, tokenizer, train, validation, args, backend, dir);
    try (var bertModel = bert.result.model()) {
      Run gpt2 = train("gpt2", gptConfig, tokenizer, train, validation, args, backend, dir);
      try (var gptModel = gpt2.result.model()) {
        printComparison(bert, gpt2);
        List<FillMaskDemo> fillMask = fillMaskDemos((BertForMaskedLM) bertModel, tokenizer);
        List<GenerationDemo> generation = generationDemos((Gpt2LMHeadModel) gptModel, tokenizer);
        printDemos(fillMask, generation);
        summary = summary(bert, gpt2, fillMask, generation);
      }
      List<MetricsEvent> all = new ArrayList<>(bert.result.events());
      all.addAll(gpt2.result.events());
      try (MetricsLog combined = MetricsLog.open(dir.resolve(MetricsLog.FILE_NAME))) {
        for (MetricsEvent e : all) {
          combined.append(e);
        }
      }
      String plot = "no loss plot: this Java runtime has no java.desktop module (use 'lmtrain plot' on a full JDK)";
      if (PlotSupport.available()) {
        LossPlot.write(dir.resolve("loss-comparison.png"), all, LossPlot.DEFAULT_WIDTH, LossPlot.DEFAULT_HEIGHT);
        plot = output.resolve("loss-comparison.png").toString();
      }
      report.printf("%nWrote %s/{bert,gpt2} (Hugging Face model folders), %s and %s%n", output,
          output.resolve(MetricsLog.FILE_NAME), plot);
    }
    if (json) {
      JsonOut.print(summary);
    }
    return 0;
  }

  /** The lab's BERT: 2 layers, 128 hidden, 2 heads, 512 intermediate, 64 positions, no dropout. */
  static BertConfig bertConfig(Tokenizer tokenizer) {
    return new BertConfig(tokenizer.vocabSize(), 128, 2, 2, 512, "gelu", 0.0, 0.0, 64, 2, 0.02, 1e-12,
        tokenizer.tokenToId("[PAD]").orElse(0), "absolute", true);
  }

  /** The lab's training settings (see the class comment). */
  static TrainingArguments arguments(int epochs, long seed, Precision precision) {
    return TrainingArguments.defaults().copy(Map.ofEntries(Map.entry("numTrainEpochs", epochs),
        Map.entry("trainBatchSize", 8), Map.entry("evalBatchSize", 8), Map.entry("learningRate", 5e-4),
        Map.entry("weightDecay", 0.01), Map.entry("warmupSteps", 50), Map.entry("lrSchedulerType",
        "constant_with_warmup"), Map.entry("mlmProbability", 0.2), Map.entry("loggingSteps", 10),
        Map.entry("seed", seed), Map.entry("precision", precision)));
  }

  /** The lab's corpus: the toy corpus repeated 20 times. */
  static List<String> corpus() {
    List<String> corpus = new ArrayList<>();
    List<String> sentences = TextSource.bundledLines("toy_corpus.txt");
    for (int i = 0; i < 20; i++) {
      corpus.addAll(sentences);
    }
    return corpus;
  }

  private record Run(PretrainingJob.Result result, double seconds, long parameters) {}

  private Run train(String name, ModelConfig config, Tokenizer tokenizer, List<String> train, List<String> validation,
      TrainingArguments args, Backend backend, Path labDir) throws IOException {
    report.printf("%nPre-training %s (%s) ...%n", name, name.equals("bert") ? "masked LM" : "causal LM");
    Path dir = labDir.resolve(name);
    long start = System.nanoTime();
    try (ConsoleProgress progress = new ConsoleProgress(name)) {
      PretrainingJob.Result result = PretrainingJob.run(new PretrainingJob.Spec(name, config, tokenizer, train,
          validation, LmDatasets.Mode.LINES, 64, 64, args, dir, false, LossWeighting.MEAN), backend, progress);
      return new Run(result, (System.nanoTime() - start) / 1e9,
          result.model().parameters().table().parameterCount());
    }
  }

  private void printComparison(Run bert, Run gpt2) {
    report.printf("%n%-26s %16s %16s%n", "", "BERT (encoder)", "GPT-2 (decoder)");
    row("objective", "masked LM", "causal LM");
    row("parameters", String.format("%,d", bert.parameters), String.format("%,d", gpt2.parameters));
    row("final train loss", fmt(lastTrainLoss(bert)), fmt(lastTrainLoss(gpt2)));
    EvalResult b = bert.result.finalEval();
    EvalResult g = gpt2.result.finalEval();
    row("validation loss", fmt(b.loss()), fmt(g.loss()));
    row("validation perplexity", fmt(b.perplexity()), fmt(g.perplexity()));
    row("validation accuracy", String.format("%.1f%% masked", 100 * b.accuracy()),
        String.format("%.1f%% next", 100 * g.accuracy()));
    row("training time", String.format("%.1f s", bert.seconds), String.format("%.1f s", gpt2.seconds));
    row("context used", "both sides", "left only");
  }

  private static double lastTrainLoss(Run run) {
    List<MetricsEvent> events = new ArrayList<>(run.result.events());
    Collections.reverse(events);
    return events.stream().filter(e -> e.split() == MetricsEvent.Split.TRAIN && e.loss() != null)
        .mapToDouble(MetricsEvent::loss).findFirst().orElse(Double.NaN);
  }

  private void row(String label, String bert, String gpt2) {
    report.printf("%-26s %16s %16s%n", label, bert, gpt2);
  }

  private static String fmt(double v) {
    return String.format("%.4f", v);
  }

  /** BERT's top-3 answers for one fill-mask demo sentence. */
  private record FillMaskDemo(String text, List<FillMask.Prediction> predictions) {}

  /** GPT-2's greedy and sampled continuations of one prompt. */
  private record GenerationDemo(String prompt, String greedy, String sampled) {}

  private static List<FillMaskDemo> fillMaskDemos(BertForMaskedLM bert, Tokenizer tokenizer) {
    List<FillMaskDemo> out = new ArrayList<>();
    for (String sentence : FILL_MASK_DEMOS) {
      out.add(new FillMaskDemo(sentence, FillMask.predict(bert, tokenizer, sentence, 3).get(0)));
    }
    return out;
  }

  private List<GenerationDemo> generationDemos(Gpt2LMHeadModel gpt2, Tokenizer tokenizer) {
    Generator generator = new Generator(gpt2);
    EncodeOptions plain = EncodeOptions.defaults().withAddSpecialTokens(false);
    List<GenerationDemo> out = new ArrayList<>();
    for (String prompt : GENERATION_DEMOS) {
      int[] ids = tokenizer.encode(prompt, plain).ids();
      int[] greedy = generator.generate(ids, 12, SamplingConfig.greedy(), -1, true);
      int[] sampled = generator.generate(ids, 12, SamplingConfig.sampling(seed).withTemperature(0.8f), -1, true);
      out.add(new GenerationDemo(prompt, tokenizer.decode(greedy, true), tokenizer.decode(sampled, true)));
    }
    return out;
  }

  private void printDemos(List<FillMaskDemo> fillMask, List<GenerationDemo> generation) {
    report.println("\nFill-mask (BERT):");
    for (FillMaskDemo demo : fillMask) {
      report.println("  " + demo.text());
      int rank = 1;
      for (FillMask.Prediction p : demo.predictions()) {
        report.printf("    %d. %-12s (score: %.4f)%n", rank++, p.tokenStr(), p.score());
      }
    }
    report.println("\nGeneration (GPT-2): greedy, then sampled with temperature 0.8:");
    for (GenerationDemo demo : generation) {
      report.println("  " + demo.prompt());
      report.println("    greedy:  " + demo.greedy());
      report.println("    sampled: " + demo.sampled());
    }
  }

  /** The {@code --json} object: the settings, both runs' figures and the demos' answers. */
  private Map<String, Object> summary(Run bert, Run gpt2, List<FillMaskDemo> fillMask,
      List<GenerationDemo> generation) {
    Map<String, Object> runs = new LinkedHashMap<>();
    runs.put("bert", runSummary(bert));
    runs.put("gpt2", runSummary(gpt2));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("device", device);
    out.put("precision", precision);
    out.put("seed", seed);
    out.put("epochs", epochs);
    out.put("output", output.toString());
    out.put("runs", runs);
    out.put("fill_mask", fillMask.stream().map(d -> Map.of("text", d.text(), "predictions", d.predictions().stream()
        .map(p -> Map.of("token_str", p.tokenStr(), "score", p.score())).toList())).toList());
    out.put("generation", generation.stream().map(d -> Map.of("prompt", d.prompt(), "greedy", d.greedy(), "sampled",
        d.sampled())).toList());
    return out;
  }

  private static Map<String, Object> runSummary(Run run) {
    EvalResult eval = run.result.finalEval();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("parameters", run.parameters);
    out.put("final_train_loss", lastTrainLoss(run));
    out.put("validation_loss", eval.loss());
    out.put("validation_perplexity", eval.perplexity());
    out.put("validation_accuracy", eval.accuracy());
    out.put("training_seconds", run.seconds);
    return out;
  }
}
