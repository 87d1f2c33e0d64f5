package ai.lmtrain.data.corpus;

/**
 * A document, or a piece of one: a document longer than {@link CorpusReader#MAX_PIECE_CHARS}
 * characters (a whole-file or blank-line document) arrives in pieces cut at line ends, so that
 * memory stays bounded; {@code first} / {@code last} say where the document starts and ends.
 *
 * @param text the text
 * @param first whether this piece starts a document
 * @param last whether this piece ends it
 * @param file index of the input file (in {@link CorpusReader#files()})
 * @param location 1-based line (text, JSONL) or row (Parquet) where it starts
 */
public record Document(String text, boolean first, boolean last, int file, long location) {}
