package ai.lmtrain.cli;

import ai.lmtrain.data.corpus.CorpusFiles;
import ai.lmtrain.data.corpus.CorpusOptions;
import ai.lmtrain.data.corpus.CorpusReader;
import ai.lmtrain.data.corpus.Document;
import ai.lmtrain.io.FileSetWriter;
import ai.lmtrain.io.FolderLock;
import ai.lmtrain.tokenizers.TokenizerTrainer;
import ai.lmtrain.tokenizers.Tokenizers;
import ai.lmtrain.tokenizers.TrainerOptions;
import ai.lmtrain.train.RunFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
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

  @Option(names = "--output", required = true, paramLabel = "DIR",
      description = "folder to write the tokenizer into: a new or empty one, unless --overwrite")
  Path output;

  @Option(names = "--overwrite", description = "replace the tokenizer files of a non-empty DIR (tokenizer.json,"
      + " tokenizer_config.json, vocab.txt, vocab.json, merges.txt, special_tokens_map.json, added_tokens.json), all"
      + " at once; its other files are kept")
  boolean overwrite;

  @Override
  public Integer call() throws Exception {
    Flags.inRange(spec, "--vocab-size", vocabSize, 1, ai.lmtrain.models.ModelConfigs.MAX_VOCAB);
    Flags.inRange(spec, "--min-frequency", minFrequency, 1, Integer.MAX_VALUE);
    try (FolderLock lock = FolderLock.acquire(output, "lmtrain train-tokenizer")) {
      checkOutput();
      return train();
    }
  }

  /**
   * Before any training: the output folder is new or empty, or --overwrite replaces the tokenizer
   * files of a folder that is not an lmtrain run (whose tokenizer belongs to its model), none of
   * them a link. Finishes a replacement a crash interrupted first.
   */
  private void checkOutput() throws IOException {
    if (Files.exists(output) && !Files.isDirectory(output)) {
      throw new IllegalArgumentException("--output " + output + " exists and is not a folder (expected a new or empty"
          + " folder, or one whose tokenizer files --overwrite replaces)");
    }
    FileSetWriter.recover(output, "tokenizer", Tokenizers.FILE_NAMES);
    boolean empty;
    try (Stream<Path> entries = Files.exists(output) ? Files.list(output) : Stream.empty()) {
      empty = entries.findAny().isEmpty();
    }
    if (empty) {
      return;
    }
    if (!overwrite) {
      throw new IllegalArgumentException("--output " + output + " is not empty; pass --overwrite to replace the"
          + " tokenizer files in it (" + String.join(", ", Tokenizers.FILE_NAMES) + "; its other files are kept),"
          + " or choose a new or empty folder");
    }
    if (RunFolder.holdsRun(output)) {
      throw new IllegalArgumentException("--output " + output + " is an lmtrain run, whose tokenizer belongs to its"
          + " model: train-tokenizer does not replace it (choose another folder)");
    }
    FileSetWriter.requireReplaceable(output, Tokenizers.FILE_NAMES);
  }

  private int train() throws IOException {
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
    Tokenizers.replace(trained.tokenizer(), output);
    spec.commandLine().getOut().printf("trained %s tokenizer: vocab size %d from %d file(s) in %.2f s -> %s%s%n", type,
        trained.tokenizer().vocabSize(), files.size(), (System.nanoTime() - t0) / 1e9, output, trained.prunes() == 0 ? ""
            : String.format(" (pre-token counts pruned %d times at --max-words %d; words seen up to %d times between"
                + " prunes were dropped)", trained.prunes(), maxWords, trained.pruneThreshold()));
    spec.commandLine().getOut().flush();
    return 0;
  }
}
