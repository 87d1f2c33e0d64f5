package ai.lmtrain.cli;

import ai.lmtrain.tokenizers.Tokenizer;
import ai.lmtrain.tokenizers.TokenizerTrainer;
import ai.lmtrain.tokenizers.TrainerOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lmtrain train-tokenizer}: train a WordPiece or byte-level BPE tokenizer and save it. */
@Command(name = "train-tokenizer", mixinStandardHelpOptions = true,
    description = "Train a tokenizer from text files and save tokenizer.json plus the legacy vocabulary files.")
public final class TrainTokenizerCommand implements Callable<Integer> {

  /** Tokenizer kinds. */
  enum Type { wordpiece, bpe }

  @Spec CommandSpec spec;

  @Option(names = "--type", required = true, description = "wordpiece or bpe")
  Type type;

  @Option(names = "--corpus", required = true, arity = "1..*", paramLabel = "FILE", description = "UTF-8 text files")
  List<Path> corpus;

  @Option(names = "--vocab-size", required = true, paramLabel = "N", description = "target vocabulary size")
  int vocabSize;

  @Option(names = "--min-frequency", defaultValue = "2", paramLabel = "K",
      description = "stop merging below this pair count (default ${DEFAULT-VALUE})")
  int minFrequency;

  @Option(names = "--output", required = true, paramLabel = "DIR", description = "folder to write the tokenizer into")
  Path output;

  @Override
  public Integer call() {
    Flags.inRange(spec, "--vocab-size", vocabSize, 1, ai.lmtrain.models.ModelConfigs.MAX_VOCAB);
    Flags.inRange(spec, "--min-frequency", minFrequency, 1, Integer.MAX_VALUE);
    long t0 = System.nanoTime();
    Tokenizer tok = type == Type.bpe
        ? TokenizerTrainer.trainByteLevelBpe(corpus, TrainerOptions.byteLevelBpe(vocabSize).withMinFrequency(minFrequency))
        : TokenizerTrainer.trainWordPiece(corpus, TrainerOptions.wordPiece(vocabSize).withMinFrequency(minFrequency));
    tok.save(output);
    spec.commandLine().getOut().printf("trained %s tokenizer: vocab size %d from %d file(s) in %.2f s -> %s%n",
        type, tok.vocabSize(), corpus.size(), (System.nanoTime() - t0) / 1e9, output);
    spec.commandLine().getOut().flush();
    return 0;
  }
}
