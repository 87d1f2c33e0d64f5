package ai.lmtrain.cli;

import ai.lmtrain.data.corpus.CorpusFormat;
import ai.lmtrain.data.corpus.CorpusOptions;
import ai.lmtrain.data.corpus.DocumentSplit;
import picocli.CommandLine.Option;

/** The corpus options that {@code prepare-data} and {@code train-tokenizer} share (a picocli mixin). */
final class CorpusInput {
  @Option(names = "--format", paramLabel = "FORMAT", description = "text, jsonl or parquet (default: by file name:"
      + " .jsonl/.json/.ndjson, .parquet, else text; before .gz/.zst)")
  String format;

  @Option(names = "--text-field", defaultValue = "text", paramLabel = "NAME",
      description = "JSONL field or Parquet column with the text (default: ${DEFAULT-VALUE})")
  String textField;

  @Option(names = "--documents", defaultValue = "lines", paramLabel = "SPLIT",
      description = "text files: lines, blank-lines or files (default: ${DEFAULT-VALUE})")
  String documents;

  /** How the files are read. */
  CorpusOptions options() {
    return new CorpusOptions(format == null ? null : CorpusFormat.parse(format), textField,
        DocumentSplit.parse(documents));
  }
}
