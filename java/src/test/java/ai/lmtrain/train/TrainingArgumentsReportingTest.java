package ai.lmtrain.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.data.TextSource;
import ai.lmtrain.models.Gpt2Config;
import ai.lmtrain.tensor.CpuBackend;
import ai.lmtrain.tokenizers.Tokenizer;
import ai.lmtrain.tokenizers.TokenizerTrainer;
import ai.lmtrain.tokenizers.TrainerOptions;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Hugging Face keys of reporting and model selection (report_to, logging_dir,
 * metric_for_best_model, greater_is_better), and TensorBoard files of a pre-training run.
 */
class TrainingArgumentsReportingTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static TrainingArguments parse(String json) throws Exception {
    List<String> unknown = new ArrayList<>();
    TrainingArguments a = TrainingArguments.defaults().with(JSON.readTree(json), unknown);
    assertEquals(List.of(), unknown);
    return a;
  }

  @Test
  void keysTakeHuggingFaceValuesAndDefaults() throws Exception {
    TrainingArguments d = TrainingArguments.defaults();
    assertEquals("loss", d.metricForBestModel());
    assertFalse(d.isGreaterBetter());
    assertTrue(d.reportsToTensorBoard(), "HF's default report_to \"all\" includes TensorBoard");
    assertTrue(parse("{\"metric_for_best_model\": \"eval_accuracy\"}").isGreaterBetter());
    assertFalse(parse("{\"metric_for_best_model\": \"eval_loss\"}").isGreaterBetter());
    assertFalse(parse("{\"metric_for_best_model\": \"f1\", \"greater_is_better\": false}").isGreaterBetter());
    assertFalse(parse("{\"report_to\": \"none\"}").reportsToTensorBoard());
    assertFalse(parse("{\"report_to\": []}").reportsToTensorBoard());
    assertTrue(parse("{\"report_to\": [\"tensorboard\"], \"logging_dir\": \"tb\"}").reportsToTensorBoard());
    assertEquals("tb", parse("{\"logging_dir\": \"tb\"}").loggingDir());
    IllegalArgumentException wandb = assertThrows(IllegalArgumentException.class, () -> parse("{\"report_to\": \"wandb\"}"));
    assertTrue(wandb.getMessage().startsWith("config key 'report_to': report_to must be one of ")
        && wandb.getMessage().endsWith(" (got 'wandb')"), wandb.getMessage());
    IllegalArgumentException metric = assertThrows(IllegalArgumentException.class,
        () -> parse("{\"metric_for_best_model\": \"bleu\"}"));
    assertTrue(metric.getMessage().startsWith("config key 'metric_for_best_model': metric_for_best_model must be one of"),
        metric.getMessage());
  }

  @Test
  void preTrainingWritesScalarsAndSamplesOrNothing(@TempDir Path tmp) throws Exception {
    List<String> texts = TextSource.bundledLines("toy_corpus.txt");
    Path corpus = tmp.resolve("toy.txt");
    Files.writeString(corpus, String.join("\n", texts) + "\n");
    Tokenizer tokenizer = TokenizerTrainer.trainByteLevelBpe(List.of(corpus), TrainerOptions.byteLevelBpe(300));
    Gpt2Config config = new Gpt2Config(tokenizer.vocabSize(), 32, 32, 2, 2, null, "gelu_new", 0.0, 0.0, 0.0, 1e-5,
        0.02, true, false, null, null, true);
    try (CpuBackend backend = new CpuBackend()) {
      for (String reportTo : new String[] {"tensorboard", "none"}) {
        Path out = tmp.resolve(reportTo);
        TrainingArguments args = TrainingArguments.defaults().copy(Map.of("numTrainEpochs", 1, "trainBatchSize", 8,
            "loggingSteps", 1, "reportTo", reportTo, "loggingDir", out.resolve("tb").toString()));
        PretrainingJob.run(new PretrainingJob.Spec("gpt2", config, tokenizer, texts.subList(0, 24), texts.subList(24, 30),
            LmDatasets.Mode.LINES, 32, 32, args, out, false, LossWeighting.MEAN), backend, new TrainingListener() {})
            .model().close();
      }
    }
    assertFalse(Files.exists(tmp.resolve("none/tb")) || Files.exists(tmp.resolve("none/runs")));
    Path events;
    try (Stream<Path> files = Files.list(tmp.resolve("tensorboard/tb"))) {
      events = files.findFirst().orElseThrow();
    }
    List<String> tags = new ArrayList<>();
    String samples = null;
    for (TfEventReader.Event e : TfEventReader.read(events)) {
      for (TfEventReader.Value v : e.values()) {
        tags.add(v.tag());
        if (v.text() != null) {
          samples = v.text();
        }
      }
    }
    for (String tag : new String[] {"train/loss", "train/learning_rate", "train/grad_norm", "train/epoch",
        "train/tokens_per_second", "train/loss_scale", "eval/loss", "eval/perplexity", "eval/accuracy",
        "eval/samples/text_summary"}) {
      assertTrue(tags.contains(tag), tag + " missing from " + tags);
    }
    assertTrue(samples != null && samples.startsWith("* **" + texts.get(24).split(" ")[0]), samples);
  }
}
