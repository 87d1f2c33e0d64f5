package ai.lmtrain.cli;

import ai.lmtrain.data.corpus.CorpusFiles;
import ai.lmtrain.data.corpus.CorpusOptions;
import ai.lmtrain.data.corpus.CorpusReader;
import ai.lmtrain.data.corpus.Document;
import ai.lmtrain.tokenizers.TokenizerTrainer;
import ai.lmtrain.tokenizers.TrainerOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lmtrain train-tokenizer}: train a WordPiece or byte-level BPE tokenizer and save it. The
 * corpus is streamed (text, JSONL or Parquet, optionally .gz / .zst, as for prepare-data) and the
 * pre-token counts are capped ({@code --max-words}), so corpora larger than memory train.
 */
@Command(name = "train-tokenizer", mixinStandardHelpOptions = true,
    description = "Train a tokenizer from text, JSONL or Parquet files and save tokenizer.json plus the legacy"
        + " vocabulary files.")
public final class TrainTokenizerCommand implements Callable<Integer> {

  /** Tokenizer kinds. */
  enum Type { wordpiece, bpe }

  @Spec CommandSpec spec;

  @Option(names = "--type", required = true, description = "wordpiece or bpe")
  Type type;

  @Option(names = {"--input", "--corpus"}, required = true, arity = "1..*", paramLabel = "FILE_OR_GLOB",
      description = "corpus files or globs (quote them)")
  List<String> inputs;

  @Mixin CorpusInput corpusInput;

  @Option(names = "--vocab-size", required = true, paramLabel = "N", description = "target vocabulary size")
  int vocabSize;

  @Option(names = "--min-frequency", defaultValue = "2", paramLabel = "K",
      description = "stop merging below this pair count (default ${DEFAULT-VALUE})")
  int minFrequency;

  @Option(names = "--max-words", defaultValue = "" + TokenizerTrainer.DEFAULT_MAX_WORDS, paramLabel = "N",
      description = "distinct pre-tokens counted at once; beyond it the rarest are dropped (default: ${DEFAULT-VALUE},"
          + " about 100 MB of heap)")
  int maxWords;

  @Option(names = "--output", required = true, paramLabel = "DIR", description = "folder to write the tokenizer into")
  Path output;

  @Override
  public Integer call() throws Exception {
    Flags.inRange(spec, "--vocab-size", vocabSize, 1, ai.lmtrain.models.ModelConfigs.MAX_VOCAB);
    Flags.inRange(spec, "--min-frequency", minFrequency, 1, Integer.MAX_VALUE);
    long t0 = System.nanoTime();
    List<Path> files = CorpusFiles.expand(inputs);
    CorpusOptions corpus = corpusInput.options();
    TokenizerTrainer.TextStream texts = sink -> {
      try (CorpusReader reader = new CorpusReader(files, corpus)) {
        for (Document d; (d = reader.next()) != null; ) {
          sink.accept(d.text());
        }
      }
    };
    String name = files.size() == 1 ? files.get(0).toString() : files.size() + " files";
    TokenizerTrainer.Trained<?> trained = type == Type.bpe
        ? TokenizerTrainer.trainByteLevelBpe(texts, name, TrainerOptions.byteLevelBpe(vocabSize)
            .withMinFrequency(minFrequency), maxWords)
        : TokenizerTrainer.trainWordPiece(texts, name, TrainerOptions.wordPiece(vocabSize).withMinFrequency(minFrequency),
            maxWords);
    trained.tokenizer().save(output);
    spec.commandLine().getOut().printf("trained %s tokenizer: vocab size %d from %d file(s) in %.2f s -> %s%s%n", type,
        trained.tokenizer().vocabSize(), files.size(), (System.nanoTime() - t0) / 1e9, output, trained.prunes() == 0 ? ""
            : String.format(" (pre-token counts pruned %d times at --max-words %d; words seen up to %d times between"
                + " prunes were dropped)", trained.prunes(), maxWords, trained.pruneThreshold()));
    spec.commandLine().getOut().flush();
    return 0;
  }
}
