package ai.lmtrain.data.corpus;

/**
 * How corpus files are read.
 *
 * @param format the format of every file, or null to go by each file's name ({@link CorpusFormat#ofFile})
 * @param textField the JSONL field or Parquet column that holds the text
 * @param split how text files are cut into documents
 */
public record CorpusOptions(CorpusFormat format, String textField, DocumentSplit split) {

  /** By file name, field "text", one document per line. */
  public static CorpusOptions defaults() {
    return new CorpusOptions(null, "text", DocumentSplit.LINES);
  }
}
