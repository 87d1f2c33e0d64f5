package ai.lmtrain.data.shards;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.data.TextSource;
import ai.lmtrain.data.corpus.CorpusException;
import ai.lmtrain.data.corpus.CorpusFiles;
import ai.lmtrain.data.corpus.CorpusFormat;
import ai.lmtrain.data.corpus.CorpusOptions;
import ai.lmtrain.data.corpus.DocumentSplit;
import ai.lmtrain.data.parquet.ParquetStringReaderTestAccess;
import ai.lmtrain.io.FileFormatException;
import ai.lmtrain.tokenizers.EncodeOptions;
import ai.lmtrain.tokenizers.TestData;
import ai.lmtrain.tokenizers.Tokenizer;
import com.github.luben.zstd.ZstdOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** prepare-data: round trips for every input format, determinism across thread counts, bad input. */
class PrepareDataTest {
  @TempDir Path tmp;

  static final List<String> DOCS = List.of("First document, with a newline\ninside it.", "Ünïcödé ✓ 😀 second",
      "third: <|endoftext|> written literally", "  leading spaces and trailing ones  ");

  static PrepareData.Options options(List<Path> inputs, Path out, CorpusOptions corpus, int threads) {
    return new PrepareData.Options(inputs, List.of(), corpus, 0.0, 1_000_000, 0, threads, 7, out);
  }

  static PrepareData.Summary prepare(Tokenizer tok, PrepareData.Options o) throws IOException {
    return PrepareData.run(tok, o, (a, b, c, d) -> { });
  }

  /** All tokens of a split's shards, in order. */
  static int[] tokens(Path dir, Tokenizer tok, boolean validation) throws IOException {
    ShardDirectory d = ShardDirectory.open(dir, tok);
    List<TokenShard> shards = validation ? d.validation() : d.train();
    int n = (int) shards.stream().mapToLong(TokenShard::size).sum();
    int[] out = new int[n];
    int at = 0;
    for (TokenShard s : shards) {
      s.read(0, out, at, (int) s.size());
      at += (int) s.size();
    }
    return out;
  }

  static String gpt2Stream(List<String> docs) {
    StringBuilder sb = new StringBuilder();
    docs.forEach(d -> sb.append("<|endoftext|>").append(d));
    return sb.toString();
  }

  static String jsonl(List<String> docs) {
    StringBuilder sb = new StringBuilder();
    for (String d : docs) {
      sb.append("{\"id\": 1, \"text\": ").append(com.fasterxml.jackson.databind.node.TextNode.valueOf(d))
          .append(", \"meta\": {\"a\": [1, 2]}}\n");
    }
    return sb.toString();
  }

  static void gzip(Path file, String text) throws IOException {
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
  }

  static void zstd(Path file, String text) throws IOException {
    try (OutputStream out = new ZstdOutputStream(Files.newOutputStream(file))) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
  }

  @Test
  void gpt2RoundTripForTextJsonlGzipZstdAndParquet() throws IOException {
    Tokenizer tok = TestData.gpt2();
    Path text = tmp.resolve("a.txt");
    Files.writeString(text, String.join("\n", DOCS.stream().map(d -> d.replace('\n', ' ')).toList()) + "\n\n");
    Path jsonl = tmp.resolve("b.jsonl.gz");
    gzip(jsonl, jsonl(DOCS));
    Path zst = tmp.resolve("c.jsonl.zst");
    zstd(zst, jsonl(DOCS.subList(0, 2)));
    Path parquet = ParquetStringReaderTestAccess.fixture(tmp, "snappy_v1_dictionary.parquet");
    List<String> expected = new ArrayList<>(DOCS.stream().map(d -> d.replace('\n', ' ')).toList());
    expected.addAll(DOCS);
    expected.addAll(DOCS.subList(0, 2));
    ParquetStringReaderTestAccess.rows().stream().filter(r -> r != null && !r.isEmpty()).forEach(expected::add);
    Path out = tmp.resolve("out");
    PrepareData.Summary s = prepare(tok, options(List.of(text, jsonl, zst, parquet), out, CorpusOptions.defaults(), 2));
    assertEquals(gpt2Stream(expected), tok.decode(tokens(out, tok, false), false));
    assertEquals(expected.size(), s.info().trainDocuments());
    assertFalse(Files.exists(out.resolve(PrepareData.INCOMPLETE_MARKER)));
    DatasetInfo info = DatasetInfo.read(out);
    assertEquals("<|endoftext|>", info.documentStart());
    assertEquals(2, info.tokenBytes());
    assertEquals(4, info.inputs().size());
    assertEquals(Files.size(jsonl), info.inputs().get(1).bytes());
  }

  @Test
  void textDocumentModes() throws IOException {
    Tokenizer tok = TestData.gpt2();
    Path f = tmp.resolve("t.txt.zst");
    zstd(f, "para one\nline two\n\n\n  \npara two\n");
    Path blocks = tmp.resolve("blocks");
    prepare(tok, options(List.of(f), blocks, new CorpusOptions(null, "text", DocumentSplit.BLANK_LINES), 1));
    assertEquals(gpt2Stream(List.of("para one\nline two", "para two")), tok.decode(tokens(blocks, tok, false)));
    Path files = tmp.resolve("files");
    prepare(tok, options(List.of(f), files, new CorpusOptions(null, "text", DocumentSplit.FILES), 1));
    assertEquals(gpt2Stream(List.of("para one\nline two\n\n\n  \npara two\n")), tok.decode(tokens(files, tok, false)));
  }

  @Test
  void bertDocumentsAreTheTokenizersOwnEncodingWithClsAndSep() throws IOException {
    Tokenizer tok = TestData.bert();
    Path f = tmp.resolve("d.jsonl");
    Files.writeString(f, jsonl(DOCS));
    Path out = tmp.resolve("out");
    prepare(tok, options(List.of(f), out, CorpusOptions.defaults(), 2));
    int[] expected = DOCS.stream().flatMapToInt(d -> Arrays.stream(tok.encode(d, EncodeOptions.defaults()).ids()))
        .toArray();
    assertArrayEquals(expected, tokens(out, tok, false));
    DatasetInfo info = DatasetInfo.read(out);
    assertEquals("[CLS]", info.documentStart());
    assertEquals("[SEP]", info.documentEnd());
  }

  /** Every file of a prepared folder, name -> bytes. */
  static List<String> fingerprint(Path dir) throws IOException {
    List<String> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : files.sorted().toList()) {
        out.add(p.getFileName() + " " + Arrays.hashCode(Files.readAllBytes(p)) + " " + Files.size(p));
      }
    }
    return out;
  }

  @Test
  void sameBytesOnOneAndTwoThreadsWithShardsAndValidation() throws IOException {
    Tokenizer tok = TestData.gpt2();
    Path f = tmp.resolve("shakespeare.txt");
    String text = TextSource.bundledText("tinyshakespeare.txt");
    Files.writeString(f, text + text);
    List<Path> dirs = new ArrayList<>();
    for (int threads : new int[] {1, 2}) {
      Path out = tmp.resolve("t" + threads);
      prepare(tok, new PrepareData.Options(List.of(f), List.of(), CorpusOptions.defaults(), 0.05, 200_000, 0, threads,
          11, out));
      dirs.add(out);
    }
    List<String> one = fingerprint(dirs.get(0));
    assertEquals(one, fingerprint(dirs.get(1)));
    assertTrue(one.stream().filter(s -> s.startsWith("train_")).count() >= 3, one.toString());
    assertTrue(one.stream().anyMatch(s -> s.startsWith("val_000000.bin")), one.toString());
    // the split is by document: train and validation documents together are the corpus's lines
    DatasetInfo info = DatasetInfo.read(dirs.get(0));
    long lines = text.lines().filter(l -> !l.isBlank()).count() * 2;
    assertEquals(lines, info.trainDocuments() + info.validationDocuments());
    assertTrue(info.validationDocuments() > lines * 0.03 && info.validationDocuments() < lines * 0.07);
    assertEquals(info.tokens("train") + info.tokens("validation"),
        tokens(dirs.get(0), tok, false).length + tokens(dirs.get(0), tok, true).length);
  }

  @Test
  void aKilledRunIsDetectedAndRestartedCleanly() throws IOException {
    Tokenizer tok = TestData.gpt2();
    Path f = tmp.resolve("a.txt");
    Files.writeString(f, String.join("\n", DOCS.stream().map(d -> d.replace('\n', ' ')).toList()));
    Path out = Files.createDirectories(tmp.resolve("out"));
    Files.writeString(out.resolve(PrepareData.INCOMPLETE_MARKER), "");
    Files.write(out.resolve("train_000001.bin"), new byte[100]);
    IOException e = assertThrows(IOException.class, () -> ShardDirectory.open(out, tok));
    assertEquals(out + ": prepare-data did not finish writing this folder (.prepare-data-incomplete is present); run"
        + " prepare-data again", e.getMessage());
    prepare(tok, options(List.of(f), out, CorpusOptions.defaults(), 1));
    assertEquals(4, ShardDirectory.open(out, tok).info().trainDocuments());
    IOException again = assertThrows(IOException.class, () -> prepare(tok, options(List.of(f), out,
        CorpusOptions.defaults(), 1)));
    assertTrue(again.getMessage().contains("already holds a prepared dataset"), again.getMessage());
    Path foreign = Files.createDirectories(tmp.resolve("foreign"));
    Files.writeString(foreign.resolve("notes.txt"), "mine");
    IOException notEmpty = assertThrows(IOException.class, () -> prepare(tok, options(List.of(f), foreign,
        CorpusOptions.defaults(), 1)));
    assertEquals(foreign + ": is not empty (it holds notes.txt); prepare-data writes into a new or empty folder",
        notEmpty.getMessage());
    assertEquals("mine", Files.readString(foreign.resolve("notes.txt")));
  }

  @Test
  void badInputIsOneErrorNamingFileAndLine() throws IOException {
    Tokenizer tok = TestData.gpt2();
    Path notJson = tmp.resolve("bad.jsonl");
    Files.writeString(notJson, "{\"text\": \"ok\"}\n{\"text\": oops}\n");
    assertMessage(notJson + ":2: not valid JSON (", tok, notJson);
    Path noField = tmp.resolve("nofield.jsonl");
    Files.writeString(noField, "{\"text\": \"ok\"}\n\n{\"content\": \"x\", \"id\": 3}\n");
    assertMessage(noField + ":3: no \"text\" field (fields: content, id); choose one with --text-field", tok, noField);
    Path number = tmp.resolve("number.jsonl");
    Files.writeString(number, "{\"text\": 12}\n");
    assertMessage(number + ":1: field \"text\" is a number, expected a string", tok, number);
    Path badGzip = tmp.resolve("x.txt.gz");
    Files.writeString(badGzip, "plain text, not gzip");
    assertMessage(badGzip + ": not gzip data (", tok, badGzip);
    Path truncatedZstd = tmp.resolve("y.txt.zst");
    zstd(truncatedZstd, TextSource.bundledText("tinyshakespeare.txt"));
    byte[] z = Files.readAllBytes(truncatedZstd);
    Files.write(truncatedZstd, Arrays.copyOf(z, z.length / 2));
    assertMessage(truncatedZstd + ": corrupt or truncated compressed data after line ", tok, truncatedZstd);
    Path badUtf8 = tmp.resolve("latin1.txt");
    Files.write(badUtf8, "ok\ncaf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
    assertMessage(badUtf8 + ":2: invalid UTF-8 (expected UTF-8 text)", tok, badUtf8);
    CorpusException missing = assertThrows(CorpusException.class,
        () -> CorpusFiles.expand(List.of(tmp.resolve("nope.txt").toString())));
    assertEquals(tmp.resolve("nope.txt") + ": no such file", missing.getMessage());
    CorpusException noMatch = assertThrows(CorpusException.class,
        () -> CorpusFiles.expand(List.of(tmp + "/*.parquet")));
    assertEquals(tmp + "/*.parquet: the pattern matches no file", noMatch.getMessage());
  }

  private void assertMessage(String prefix, Tokenizer tok, Path input) {
    Path out = tmp.resolve("out-" + input.getFileName());
    IOException e = assertThrows(IOException.class, () -> prepare(tok, options(List.of(input), out,
        new CorpusOptions(null, "text", DocumentSplit.LINES), 2)));
    assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
    assertTrue(Files.exists(out.resolve(PrepareData.INCOMPLETE_MARKER)), "a failed run stays marked incomplete");
  }

  @Test
  void globsExpandSortedAndOnce() throws IOException {
    Files.createDirectories(tmp.resolve("d/sub"));
    for (String n : new String[] {"d/b.jsonl", "d/a.jsonl", "d/sub/c.jsonl", "d/x.txt"}) {
      Files.writeString(tmp.resolve(n), "");
    }
    assertEquals(List.of(tmp.resolve("d/a.jsonl"), tmp.resolve("d/b.jsonl")),
        CorpusFiles.expand(List.of(tmp + "/d/*.jsonl", tmp + "/d/a.jsonl")));
    assertEquals(List.of(tmp.resolve("d/a.jsonl"), tmp.resolve("d/b.jsonl"), tmp.resolve("d/sub/c.jsonl")),
        CorpusFiles.expand(List.of(tmp + "/d/**.jsonl")));
    assertEquals(CorpusFormat.PARQUET, CorpusFormat.ofFile(Path.of("x/train-0001.parquet")));
    assertEquals(CorpusFormat.JSONL, CorpusFormat.ofFile(Path.of("x/a.jsonl.zst")));
  }

  @Test
  void uint16ShardsRefuseALargeVocabulary() {
    java.util.Map<String, Integer> vocab = new java.util.LinkedHashMap<>();
    for (String s : List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")) {
      vocab.put(s, vocab.size());
    }
    for (int i = vocab.size(); i < 70_000; i++) {
      vocab.put("w" + i, i);
    }
    Tokenizer big = ai.lmtrain.tokenizers.Tokenizers.bert(vocab, true, "big vocab");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PrepareData.run(big,
        new PrepareData.Options(List.of(tmp.resolve("a.txt")), List.of(), CorpusOptions.defaults(), 0, 1000, 2, 1, 1,
            tmp.resolve("o")), (a, b, c, d) -> { }));
    assertEquals("the tokenizer has 70000 tokens, but uint16 shards (version 1) hold ids below 65536; use"
        + " --token-dtype uint32 (version 2)", e.getMessage());
  }

  @Test
  void aDatasetFromAnotherTokenizerIsRefused() throws IOException {
    Path f = tmp.resolve("a.txt");
    Files.writeString(f, "hello world\n");
    Path out = tmp.resolve("out");
    prepare(TestData.gpt2(), options(List.of(f), out, CorpusOptions.defaults(), 1));
    FileFormatException e = assertThrows(FileFormatException.class, () -> ShardDirectory.open(out, TestData.bert()));
    assertTrue(e.getMessage().startsWith(out.resolve("dataset.json") + ": the shards were made with another tokenizer"
        + " (sha256 "), e.getMessage());
    assertTrue(e.getMessage().endsWith("pass the --tokenizer given to prepare-data"), e.getMessage());
  }
}
