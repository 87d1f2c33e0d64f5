// Makes the pre-padding fixtures of LegacyCheckpointTest with the code of commit ea1e243 (before
// the vocabulary was padded in the parameter layout). Kept to document how the files were made;
// rerunning it with later code would pin that code's output instead, which is not the point.
//   mvn -q -Dcuda=OFF -DskipTests package
//   jshell --class-path java/target/lmtrain-0.1.0.jar -R-Djava.awt.headless=true \
//       java/src/test/resources/legacy/make.jsh
import ai.lmtrain.data.TextSource;
import ai.lmtrain.models.*;
import ai.lmtrain.tensor.CpuBackend;
import ai.lmtrain.tokenizers.*;
import ai.lmtrain.train.*;
import java.nio.file.*;
import java.util.*;

Path out = Path.of("java/src/test/resources/legacy");
List<String> texts = TextSource.bundledLines("toy_corpus.txt");
Path corpus = Files.createTempFile("toy", ".txt");
Files.writeString(corpus, String.join("\n", texts) + "\n");
Tokenizer tokenizer = TokenizerTrainer.trainWordPiece(List.of(corpus), TrainerOptions.wordPiece(150));
CpuBackend backend = new CpuBackend();

TrainingArguments args(int maxSteps) {
  return TrainingArguments.defaults().copy(Map.of("maxSteps", maxSteps, "trainBatchSize", 4, "learningRate", 3e-3,
      "lrSchedulerType", "constant_with_warmup", "warmupSteps", 2, "weightDecay", 0.01, "loggingSteps", 1,
      "evalStrategy", "no", "saveStrategy", "steps", "saveSteps", 4));
}

void run(String name, ModelConfig config) throws Exception {
  for (int steps : new int[] {4, 8}) {
    Path dir = out.resolve(steps == 4 ? name + "-step4" : name + "-uninterrupted");
    PretrainingJob.Result r = PretrainingJob.run(new PretrainingJob.Spec(name, config, tokenizer, texts.subList(0, 24),
        List.of(), LmDatasets.Mode.LINES, 32, 32, args(steps), dir, false, LossWeighting.MEAN), backend,
        new TrainingListener() {});
    r.model().close();
    Files.deleteIfExists(dir.resolve("loss.png"));
  }
  // only the losses of the uninterrupted run are kept
  Path full = out.resolve(name + "-uninterrupted");
  Files.move(full.resolve("metrics.jsonl"), out.resolve(name + "-uninterrupted-metrics.jsonl"));
  try (var walk = Files.walk(full)) {
    walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
  }
}

int v = tokenizer.vocabSize();
run("gpt2", new Gpt2Config(v, 32, 16, 1, 2, null, "gelu_new", 0.1, 0.1, 0.1, 1e-5, 0.02, true, false, null, null, true));
run("bert", new BertConfig(v, 16, 1, 2, 32, "gelu", 0.1, 0.1, 32, 2, 0.02, 1e-12, 0, "absolute", true));
System.out.println("vocab_size " + v);
/exit
