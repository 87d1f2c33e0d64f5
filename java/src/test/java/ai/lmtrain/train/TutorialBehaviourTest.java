package ai.lmtrain.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.data.TextSource;
import ai.lmtrain.models.Gpt2Config;
import ai.lmtrain.models.InitScheme;
import ai.lmtrain.models.ModelConfigs;
import ai.lmtrain.tensor.CpuBackend;
import ai.lmtrain.tokenizers.Tokenizer;
import ai.lmtrain.tokenizers.TokenizerTrainer;
import ai.lmtrain.tokenizers.TrainerOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The from-scratch GPT-2 tutorial's behaviour (issue 15): a model built from plain PyTorch modules
 * (PyTorch-default initialisation, untied output head) memorises a ~20 KB text in ~90 steps, while
 * the same run with Hugging Face's initialisation and tied head stays near the unigram plateau.
 *
 * <p>What runs here (a smaller model than the tutorial's 124M; {@code scripts/parity/tutorial.sh}
 * runs the same comparison against PyTorch): the first {@value #SLICE_CHARS} characters of the
 * bundled tinyshakespeare.txt as the story, a byte-level BPE of {@value #VOCAB} trained on its first
 * {@value #TOKENIZER_CHARS} characters (so that, as with GPT-2's vocabulary and the tutorial's
 * story, most of the vocabulary never occurs in the training text), GPT-2 with {@value #LAYERS}
 * layers, E {@value #WIDTH}, {@value #HEADS} heads, context 256, dropout 0.1; batch 2, AdamW lr
 * 4e-4, weight decay 0.1, no clipping, constant lr, no warm-up, {@value #STEPS} steps. The training
 * loss is measured as the tutorial does: without dropout, on the training windows (the evaluation
 * set is the training text), after steps 30, 60 and 90. Smaller models (1 layer, or E 128) do not
 * show the effect: there the hf-init run learns as fast or faster. Measured on the development
 * machine: hf [5.61, 5.32, 4.76], pytorch + untied [5.39, 4.34, 3.26]; the test asks for a gap of
 * at least {@value #MIN_GAP} nats at step 90 and a pytorch-init curve still falling.
 */
class TutorialBehaviourTest {
  static final int SLICE_CHARS = 20_000;
  static final int TOKENIZER_CHARS = 300_000;
  static final int VOCAB = 4000;
  static final int LAYERS = 4;
  static final int WIDTH = 384;
  static final int HEADS = 6;
  static final int STEPS = 90;
  static final double MIN_GAP = 1.0;

  @Test
  void pytorchInitWithAnUntiedHeadMemorisesWhereHfInitPlateaus(@TempDir Path tmp) throws IOException {
    String shakespeare = TextSource.bundledText("tinyshakespeare.txt");
    String story = shakespeare.substring(0, SLICE_CHARS);
    Path text = tmp.resolve("tokenizer-corpus.txt");
    Files.writeString(text, shakespeare.substring(0, TOKENIZER_CHARS));
    Tokenizer tokenizer = TokenizerTrainer.trainByteLevelBpe(List.of(text), TrainerOptions.byteLevelBpe(VOCAB));
    Gpt2Config hf = new Gpt2Config(tokenizer.vocabSize(), 256, WIDTH, LAYERS, HEADS, null, "gelu_new", 0.1, 0.1,
        0.1, 1e-5, 0.02, true, false, null, null, true);
    Gpt2Config tutorial = hf.withTieWordEmbeddings(false).withInitializer(InitScheme.PYTORCH);

    try (CpuBackend backend = new CpuBackend()) {
      List<Double> hfCurve = trainingLossCurve(hf, tokenizer, story, tmp.resolve("hf"), backend);
      List<Double> tutorialCurve = trainingLossCurve(tutorial, tokenizer, story, tmp.resolve("pytorch"), backend);
      System.out.println("training loss without dropout after steps 30, 60, 90: hf init + tied " + hfCurve
          + "; pytorch init + untied " + tutorialCurve);
      assertTrue(Files.readString(tmp.resolve("pytorch").resolve(ModelConfigs.CONFIG_FILE))
          .contains("\"initializer\": \"pytorch\""), "config.json records the initialisation");
      double hfEnd = hfCurve.get(hfCurve.size() - 1);
      double tutorialEnd = tutorialCurve.get(tutorialCurve.size() - 1);
      assertTrue(tutorialEnd < hfEnd - MIN_GAP, "pytorch init + untied head ends at " + tutorialEnd
          + ", not " + MIN_GAP + " nats below the hf-init run's " + hfEnd);
      for (int i = 1; i < tutorialCurve.size(); i++) {
        assertTrue(tutorialCurve.get(i) < tutorialCurve.get(i - 1), "the pytorch-init curve falls: " + tutorialCurve);
      }
    }
  }

  /** The training run's loss on its own windows without dropout, after steps 30, 60 and 90. */
  private static List<Double> trainingLossCurve(Gpt2Config config, Tokenizer tokenizer, String story, Path out,
      CpuBackend backend) throws IOException {
    TrainingArguments args = TrainingArguments.defaults().copy(Map.ofEntries(Map.entry("maxSteps", STEPS),
        Map.entry("numTrainEpochs", 100), Map.entry("trainBatchSize", 2), Map.entry("evalBatchSize", 2),
        Map.entry("learningRate", 4e-4), Map.entry("weightDecay", 0.1), Map.entry("maxGradNorm", 0.0),
        Map.entry("lrSchedulerType", "constant"), Map.entry("warmupSteps", 0), Map.entry("loggingSteps", 10),
        Map.entry("evalStrategy", "steps"), Map.entry("evalSteps", 30), Map.entry("saveStrategy", "no"),
        Map.entry("seed", 123L), Map.entry("reportTo", "none")));
    PretrainingJob.Spec spec = new PretrainingJob.Spec("tutorial", config, tokenizer, List.of(story), List.of(story),
        LmDatasets.Mode.CHUNKS, 256, 256, args, out, false, LossWeighting.MEAN);
    PretrainingJob.Result result = PretrainingJob.run(spec, backend, new TrainingListener() {});
    result.model().close();
    List<Double> curve = FinetuneJobTest.losses(result.events(), MetricsEvent.Split.EVAL);
    assertEquals(STEPS / 30, curve.size(), "an evaluation every 30 steps");
    return curve;
  }
}
