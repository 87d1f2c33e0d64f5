package ai.lmtrain.cli;

import ai.lmtrain.data.corpus.CorpusFiles;
import ai.lmtrain.data.corpus.CorpusOptions;
import ai.lmtrain.data.shards.DatasetInfo;
import ai.lmtrain.data.shards.PrepareData;
import ai.lmtrain.tokenizers.Tokenizer;
import ai.lmtrain.tokenizers.Tokenizers;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lmtrain prepare-data}: tokenizes text, JSONL or Parquet files (optionally .gz / .zst) on
 * all cores into llm.c token shards plus dataset.json, for {@code train --data}.
 */
@Command(name = "prepare-data", mixinStandardHelpOptions = true,
    description = "Tokenize text, JSONL or Parquet files into token shards (llm.c's format) for train --data.")
public final class PrepareDataCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger("lmtrain");

  @Spec CommandSpec spec;

  @Option(names = "--tokenizer", required = true, paramLabel = "PATH",
      description = "tokenizer.json, vocab.txt, or a folder holding one")
  Path tokenizer;

  @Option(names = "--input", required = true, arity = "1..*", paramLabel = "FILE_OR_GLOB",
      description = "corpus files or globs (quote them), e.g. 'data/*.parquet'")
  List<String> inputs;

  @Option(names = "--output", required = true, paramLabel = "DIR", description = "new or empty folder for the shards")
  Path output;

  @Mixin CorpusInput corpusInput;

  @ArgGroup(exclusive = true)
  ValidationChoice validation = new ValidationChoice();

  static final class ValidationChoice {
    @Option(names = "--validation-fraction", defaultValue = "0.0005", paramLabel = "F",
        description = "share of documents held out for validation (default: ${DEFAULT-VALUE})")
    double fraction = 0.0005;

    @Option(names = "--validation", arity = "1..*", paramLabel = "FILE_OR_GLOB",
        description = "validation files (instead of a fraction)")
    List<String> files;
  }

  @Option(names = "--shard-tokens", defaultValue = "100000000", paramLabel = "N",
      description = "tokens per shard (default: ${DEFAULT-VALUE})")
  long shardTokens;

  @Option(names = "--token-dtype", paramLabel = "TYPE", description = "uint16 (version 1) or uint32 (version 2)"
      + " (default: uint16 when the vocabulary fits)")
  String tokenDtype;

  @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
      description = "tokenizing threads (default: all cores)")
  int threads;

  @Option(names = "--seed", defaultValue = "42", paramLabel = "S",
      description = "seed of the validation draw (default: ${DEFAULT-VALUE})")
  long seed;

  @Override
  public Integer call() throws Exception {
    CorpusOptions corpus = corpusInput.options();
    int tokenBytes = tokenDtype == null ? 0 : switch (tokenDtype) {
      case "uint16" -> 2;
      case "uint32" -> 4;
      default -> throw new IllegalArgumentException("--token-dtype must be uint16 or uint32 (got '" + tokenDtype + "')");
    };
    int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    List<Path> files = CorpusFiles.expand(inputs);
    List<Path> validationFiles = validation.files == null ? List.of() : CorpusFiles.expand(validation.files);
    Tokenizer tok = Tokenizers.load(tokenizer);
    PrepareData.Options options = new PrepareData.Options(files, validationFiles, corpus, validation.fraction,
        shardTokens, tokenBytes, n, seed, output);
    PrepareData.Summary s;
    try (Progress progress = new Progress()) {
      s = PrepareData.run(tok, options, progress);
    }
    DatasetInfo info = s.info();
    long tokens = info.tokens("train") + info.tokens("validation");
    long trainShards = info.shards().stream().filter(x -> x.split().equals("train")).count();
    spec.commandLine().getOut().printf("prepared %s: %,d documents (%,d validation), %,d tokens (%,d validation) in"
        + " %d train + %d validation shards of %s, from %,.1f MB of input in %.1f s (%.1f MB/s, %,.0f tokens/s, %d"
        + " threads)%s%n", output, info.trainDocuments() + info.validationDocuments(), info.validationDocuments(),
        tokens, info.tokens("validation"), trainShards, info.shards().size() - trainShards,
        info.tokenBytes() == 2 ? "uint16" : "uint32", s.inputBytes() / 1e6, s.seconds(),
        s.inputBytes() / 1e6 / s.seconds(), tokens / s.seconds(), n, info.skippedDocuments() > 0
            ? String.format("; %,d empty documents skipped", info.skippedDocuments()) : "");
    spec.commandLine().getOut().flush();
    return 0;
  }

  /** A progress bar in MB of input on a terminal, else a log line every 10 s. */
  private static final class Progress implements PrepareData.Progress, AutoCloseable {
    private final boolean interactive = System.console() != null;
    private final long start = System.nanoTime();
    private ProgressBar bar;
    private long lastLog = System.nanoTime();

    @Override
    public void update(long bytesRead, long totalBytes, long tokens, long documents) {
      double seconds = Math.max(1e-9, (System.nanoTime() - start) / 1e9);
      String rate = String.format(" %,d tokens, %,.0f tok/s", tokens, tokens / seconds);
      if (interactive) {
        if (bar == null) {
          bar = new ProgressBarBuilder().setTaskName("prepare-data").setInitialMax(Math.max(1, totalBytes / 1_000_000))
              .setUnit(" MB", 1).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250).showSpeed()
              .continuousUpdate().build();
        }
        bar.maxHint(Math.max(1, totalBytes / 1_000_000));
        bar.stepTo(bytesRead / 1_000_000);
        bar.setExtraMessage(rate);
      } else if (System.nanoTime() - lastLog > 10_000_000_000L) {
        lastLog = System.nanoTime();
        double mb = bytesRead / 1e6;
        double eta = bytesRead > 0 ? (totalBytes - bytesRead) * seconds / bytesRead : Double.NaN;
        LOG.info(String.format("prepare-data: %,.0f of %,.0f MB (%.1f MB/s), %,d documents,%s, ETA %.0f s", mb,
            totalBytes / 1e6, mb / seconds, documents, rate, eta));
      }
    }

    @Override
    public void close() {
      if (bar != null) {
        bar.close();
      }
    }
  }
}
