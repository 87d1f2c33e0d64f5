package ai.lmtrain.data.shards;

import ai.lmtrain.data.SplitMix64;
import ai.lmtrain.data.corpus.CorpusOptions;
import ai.lmtrain.data.corpus.CorpusReader;
import ai.lmtrain.data.corpus.Document;
import ai.lmtrain.tokenizers.IdBuffer;
import ai.lmtrain.tokenizers.Tokenizer;
import ai.lmtrain.tokenizers.Tokenizers;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;

/**
 * {@code prepare-data}: tokenizes corpus files into llm.c token shards ({@link ShardFormat}) with
 * bounded memory, on several threads, with output that depends only on the input, the tokenizer
 * and the options (not on the thread count).
 *
 * <p>One reader thread cuts the documents into batches (about {@link #BATCH_CHARS} characters) and
 * hands them, in order, to a pool of tokenizing threads; the calling thread takes the results in
 * the same order and appends them to the current shard, starting a new one every
 * {@code shardTokens} tokens (a document may continue in the next shard, as in llm.c). At most
 * {@code 2 * threads + 2} batches are in flight, so memory does not grow with the corpus. With a
 * validation fraction, each document goes to validation when a SplitMix64 draw seeded by the seed
 * and the document's ordinal falls below the fraction; with validation files, their documents do.
 *
 * <p>Output: {@code train_000001.bin}, {@code train_000002.bin} ..., {@code val_000000.bin} ...,
 * then {@code dataset.json} ({@link DatasetInfo}). While writing, the folder holds a marker file
 * {@value #INCOMPLETE_MARKER}, removed after dataset.json is in place: a killed run leaves the
 * marker, training refuses such a folder, and the next prepare-data deletes the partial shards.
 */
public final class PrepareData {
  /** Marker present while a folder is being written. */
  public static final String INCOMPLETE_MARKER = ".prepare-data-incomplete";
  /** Characters per batch handed to a tokenizing thread. */
  static final int BATCH_CHARS = 1 << 18;
  private static final Pattern OUR_FILES = Pattern.compile("(train|val)_\\d{6}\\.bin");

  /**
   * What to prepare.
   *
   * @param inputs corpus files (see {@link ai.lmtrain.data.corpus.CorpusFiles#expand})
   * @param validationInputs files for the validation split, or empty to split by fraction
   * @param corpus how files are read
   * @param validationFraction share of documents held out (ignored with validation files), in [0, 1)
   * @param shardTokens tokens per shard (the last one of a split holds the rest), at most 2^31 - 1
   * @param tokenBytes 2 (uint16) or 4 (uint32); 0 picks 2 when the vocabulary fits, else 4
   * @param threads tokenizing threads, &gt; 0
   * @param seed seeds the validation draw
   * @param output the folder (created; must be empty, or hold only a killed run's partial output)
   */
  public record Options(List<Path> inputs, List<Path> validationInputs, CorpusOptions corpus,
      double validationFraction, long shardTokens, int tokenBytes, int threads, long seed, Path output) {

    /** Checks the ranges. */
    public Options {
      inputs = List.copyOf(inputs);
      validationInputs = List.copyOf(validationInputs);
      if (!(validationFraction >= 0 && validationFraction < 1)) {
        throw new IllegalArgumentException("--validation-fraction must be in [0, 1), got " + validationFraction);
      }
      if (shardTokens < 1 || shardTokens > ShardFormat.MAX_TOKENS) {
        throw new IllegalArgumentException("--shard-tokens must be in [1, " + ShardFormat.MAX_TOKENS + "] (a shard"
            + " header counts tokens in an int32), got " + shardTokens);
      }
      if (tokenBytes != 0 && tokenBytes != 2 && tokenBytes != 4) {
        throw new IllegalArgumentException("token width must be 2 (uint16) or 4 (uint32) bytes");
      }
      if (threads < 1) {
        throw new IllegalArgumentException("--threads must be positive, got " + threads);
      }
    }
  }

  /** Receives progress from the writing thread, about once per batch. */
  @FunctionalInterface
  public interface Progress {
    /**
     * @param bytesRead input bytes consumed
     * @param totalBytes input bytes in all
     * @param tokens tokens written
     * @param documents documents written
     */
    void update(long bytesRead, long totalBytes, long tokens, long documents);
  }

  /**
   * What a run wrote.
   *
   * @param info the dataset.json content
   * @param inputBytes input bytes read
   * @param seconds wall time
   */
  public record Summary(DatasetInfo info, long inputBytes, double seconds) {}

  private PrepareData() {}

  /**
   * Prepares the shards.
   *
   * @throws IOException for unreadable input (naming file and line), a folder that holds other
   *     files, or a write failure
   * @throws IllegalArgumentException if the vocabulary does not fit uint16 shards when those are asked for
   */
  public static Summary run(Tokenizer tokenizer, Options options, Progress progress) throws IOException {
    long t0 = System.nanoTime();
    int vocab = tokenizer.vocabSize();
    int tokenBytes = options.tokenBytes() != 0 ? options.tokenBytes() : vocab <= 65536 ? 2 : 4;
    if (tokenBytes == 2 && vocab > 65536) {
      throw new IllegalArgumentException("the tokenizer has " + vocab + " tokens, but uint16 shards (version 1) hold"
          + " ids below 65536; use --token-dtype uint32 (version 2)");
    }
    DocumentTokens docs = DocumentTokens.of(tokenizer);
    Path out = options.output();
    prepareFolder(out);
    Path marker = out.resolve(INCOMPLETE_MARKER);
    Files.writeString(marker, "prepare-data is writing this folder; a folder holding this file is incomplete\n");
    Writer writer = new Writer(out, tokenBytes, options.shardTokens());
    List<DatasetInfo.Input> inputs = new ArrayList<>();
    long inputBytes = 0;
    long[] skipped = {0};
    try {
      boolean separateValidation = !options.validationInputs().isEmpty();
      inputBytes += pass(options.inputs(), separateValidation ? 0 : options.validationFraction(), false, docs, options,
          writer, progress, inputs, skipped);
      if (separateValidation) {
        inputBytes += pass(options.validationInputs(), 0, true, docs, options, writer, progress, inputs, skipped);
      }
      writer.finish();
    } catch (IOException | RuntimeException e) {
      writer.abandon();
      throw e;
    }
    DatasetInfo info = new DatasetInfo(Tokenizers.sha256(tokenizer), vocab, tokenBytes, docs.startToken(),
        docs.endToken(), writer.shards, writer.documents[0], writer.documents[1], skipped[0], inputs,
        optionsJson(options));
    info.write(out);
    // If a crash loses this deletion, the folder merely reads as incomplete: the safe direction.
    Files.delete(marker);
    return new Summary(info, inputBytes, (System.nanoTime() - t0) / 1e9);
  }

  private static ObjectNode optionsJson(Options o) {
    ObjectNode n = JsonNodeFactory.instance.objectNode();
    n.put("format", o.corpus().format() == null ? "by file name" : o.corpus().format().name().toLowerCase());
    n.put("text_field", o.corpus().textField());
    n.put("documents", o.corpus().split().name().toLowerCase().replace('_', '-'));
    if (o.validationInputs().isEmpty()) {
      n.put("validation_fraction", o.validationFraction());
    }
    n.put("seed", o.seed());
    n.put("shard_tokens", o.shardTokens());
    return n;
  }

  /**
   * Creates the folder, or empties a killed run's output from it.
   *
   * @throws IOException if it holds a finished dataset or files prepare-data did not write
   */
  private static void prepareFolder(Path out) throws IOException {
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw new IOException(out + ": exists and is not a folder (expected a new or empty --output folder)");
    }
    Files.createDirectories(out);
    boolean killedRun = Files.exists(out.resolve(INCOMPLETE_MARKER));
    if (!killedRun && Files.exists(out.resolve(DatasetInfo.FILE_NAME))) {
      throw new IOException(out + ": already holds a prepared dataset (" + DatasetInfo.FILE_NAME + "); choose"
          + " another --output or delete it first");
    }
    List<Path> ours = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(out)) {
      for (Path p : entries) {
        String name = p.getFileName().toString();
        if (killedRun && (OUR_FILES.matcher(name).matches() || name.equals(INCOMPLETE_MARKER)
            || name.equals(DatasetInfo.FILE_NAME) || name.startsWith(DatasetInfo.FILE_NAME + "."))) {
          ours.add(p);
        } else {
          throw new IOException(out + ": is not empty (it holds " + name + "); prepare-data writes into a new or"
              + " empty folder");
        }
      }
    }
    for (Path p : ours) {
      Files.delete(p);
    }
  }

  /** Reads, tokenizes and writes one list of files; returns the input bytes read. */
  private static long pass(List<Path> files, double validationFraction, boolean allValidation, DocumentTokens docs,
      Options options, Writer writer, Progress progress, List<DatasetInfo.Input> inputs, long[] skipped)
      throws IOException {
    CorpusReader reader = new CorpusReader(files, options.corpus());
    long[] sizes = reader.sizes();
    for (int i = 0; i < files.size(); i++) {
      inputs.add(new DatasetInfo.Input(files.get(i).toString(), allValidation ? "validation" : "train", sizes[i]));
    }
    int inFlight = 2 * options.threads() + 2;
    BlockingQueue<Future<Encoded>> queue = new ArrayBlockingQueue<>(inFlight);
    ExecutorService pool = Executors.newFixedThreadPool(options.threads(), daemon("lmtrain-tokenize"));
    AtomicBoolean stop = new AtomicBoolean();
    Thread producer = daemon("lmtrain-read").newThread(() -> produce(reader, docs, pool, queue, stop, validationFraction,
        allValidation, options.seed(), writer.documentsSeen()));
    producer.start();
    try {
      while (true) {
        Encoded batch;
        try {
          batch = queue.take().get();
        } catch (ExecutionException e) {
          Throwable cause = e.getCause();
          if (cause instanceof UncheckedIOException u) {
            throw u.getCause();
          }
          if (cause instanceof RuntimeException r) {
            throw r;
          }
          if (cause instanceof IOException io) {
            throw io;
          }
          throw new IllegalStateException(cause);
        }
        if (batch == Encoded.END) {
          break;
        }
        writer.write(batch);
        progress.update(writer.baseBytes + batch.bytesRead, writer.baseBytes + reader.totalBytes(), writer.tokens(),
            writer.documents[0] + writer.documents[1]);
      }
      skipped[0] += reader.skipped();
      writer.baseBytes += reader.totalBytes();
      return reader.totalBytes();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("prepare-data was interrupted", e);
    } finally {
      stop.set(true);
      producer.interrupt();
      pool.shutdownNow();
      try {
        producer.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      reader.close();
    }
  }

  /** The reader thread: batches of documents, tokenized by the pool, queued in order; END last (or the error). */
  private static void produce(CorpusReader reader, DocumentTokens docs, ExecutorService pool,
      BlockingQueue<Future<Encoded>> queue, AtomicBoolean stop, double fraction, boolean allValidation, long seed,
      long firstOrdinal) {
    long ordinal = firstOrdinal;
    try {
      Batch batch = new Batch();
      boolean currentIsValidation = false;
      while (!stop.get()) {
        Document d = reader.next();
        if (d != null) {
          if (d.first()) {
            currentIsValidation = allValidation || (fraction > 0 && draw(seed, ordinal) < fraction);
            ordinal++;
          }
          batch.add(d, currentIsValidation);
        }
        if (d == null || batch.chars >= BATCH_CHARS) {
          if (!batch.pieces.isEmpty()) {
            Batch work = batch;
            long bytes = reader.bytesRead();
            queue.put(CompletableFuture.supplyAsync(() -> Encoded.of(docs, work, bytes), pool));
            batch = new Batch();
          }
          if (d == null) {
            queue.put(CompletableFuture.completedFuture(Encoded.END));
            return;
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException | RuntimeException e) {
      CompletableFuture<Encoded> failed = new CompletableFuture<>();
      failed.completeExceptionally(e);
      try {
        queue.put(failed);
      } catch (InterruptedException ignored) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** A uniform draw in [0, 1) for document {@code ordinal}, independent of threads and batching. */
  static double draw(long seed, long ordinal) {
    return new SplitMix64(seed ^ (ordinal * 0x9E3779B97F4A7C15L)).nextDouble();
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /** The reader thread's side: document pieces in order, the split each goes to, and their characters. */
  private static final class Batch {
    final List<Document> pieces = new ArrayList<>();
    boolean[] validation = new boolean[256];
    int chars;

    void add(Document d, boolean toValidation) {
      if (pieces.size() == validation.length) {
        validation = Arrays.copyOf(validation, validation.length * 2);
      }
      validation[pieces.size()] = toValidation;
      pieces.add(d);
      chars += d.text().length();
    }
  }

  /**
   * A tokenized batch: the ids of its pieces back to back in one array, where each piece's ids end
   * ({@code ends[i]}), whether it starts a document and whether it goes to validation; the texts are
   * dropped once encoded.
   */
  record Encoded(int[] ids, int[] ends, boolean[] starts, boolean[] validation, int pieces, long bytesRead) {
    static final Encoded END = new Encoded(new int[0], new int[0], new boolean[0], new boolean[0], 0, 0);

    static Encoded of(DocumentTokens docs, Batch batch, long bytesRead) {
      int n = batch.pieces.size();
      // GPT-2's BPE gives about 0.3 tokens per character of English, so this rarely grows
      IdBuffer ids = new IdBuffer(batch.chars / 2 + 2 * n);
      int[] ends = new int[n];
      boolean[] starts = new boolean[n];
      for (int i = 0; i < n; i++) {
        Document d = batch.pieces.get(i);
        docs.encode(d.text(), d.first(), d.last(), ids);
        ends[i] = ids.size();
        starts[i] = d.first();
      }
      return new Encoded(ids.array(), ends, starts, batch.validation, n, bytesRead);
    }
  }

  /** The calling thread's side: appends batches to the train or validation shard, rolling shards over. */
  private static final class Writer {
    private final Path dir;
    private final int tokenBytes;
    private final long shardTokens;
    private final ShardWriter[] current = new ShardWriter[2];
    private final int[] nextIndex = {1, 0};
    private final long[] documents = new long[2];
    private final List<DatasetInfo.Shard> trainShards = new ArrayList<>();
    private final List<DatasetInfo.Shard> valShards = new ArrayList<>();
    private List<DatasetInfo.Shard> shards;
    private long tokens;
    private long baseBytes;

    Writer(Path dir, int tokenBytes, long shardTokens) {
      this.dir = dir;
      this.tokenBytes = tokenBytes;
      this.shardTokens = shardTokens;
    }

    long tokens() {
      return tokens;
    }

    long documentsSeen() {
      return documents[0] + documents[1];
    }

    /** Appends a batch: each run of consecutive pieces of one split in one write. */
    void write(Encoded batch) throws IOException {
      int from = 0;
      for (int i = 0; i < batch.pieces(); ) {
        boolean validation = batch.validation()[i];
        int split = validation ? 1 : 0;
        int j = i;
        for (; j < batch.pieces() && batch.validation()[j] == validation; j++) {
          if (batch.starts()[j]) {
            documents[split]++;
          }
        }
        int to = batch.ends()[j - 1];
        append(split, batch.ids(), from, to);
        from = to;
        i = j;
      }
    }

    /** Appends {@code ids[from, to)} to the split's shard, starting a new shard every {@code shardTokens} tokens. */
    private void append(int split, int[] ids, int from, int to) throws IOException {
      while (from < to) {
        ShardWriter w = shard(split);
        int n = (int) Math.min(to - from, shardTokens - w.tokens());
        w.write(ids, from, from + n);
        from += n;
        tokens += n;
        if (w.tokens() == shardTokens) {
          close(split);
        }
      }
    }

    private ShardWriter shard(int split) throws IOException {
      if (current[split] == null) {
        String name = String.format("%s_%06d.bin", split == 0 ? "train" : "val", nextIndex[split]++);
        current[split] = new ShardWriter(dir.resolve(name), tokenBytes);
      }
      return current[split];
    }

    private void close(int split) throws IOException {
      ShardWriter w = current[split];
      current[split] = null;
      w.close();
      (split == 0 ? trainShards : valShards).add(new DatasetInfo.Shard(w.file().getFileName().toString(),
          split == 0 ? "train" : "validation", w.tokens()));
    }

    /** Closes the open shards; the list of shards is complete after this. */
    void finish() throws IOException {
      for (int split = 0; split < 2; split++) {
        if (current[split] != null) {
          close(split);
        }
      }
      if (trainShards.isEmpty()) {
        throw new IOException("the input holds no text (every document was empty), so there is nothing to write");
      }
      shards = new ArrayList<>(trainShards);
      shards.addAll(valShards);
    }

    /** After a failure: closes what is open (the marker stays, so the folder reads as incomplete). */
    void abandon() {
      for (ShardWriter w : current) {
        if (w != null) {
          try {
            w.close();
          } catch (IOException ignored) {
            // the original failure is the one reported
          }
        }
      }
    }
  }
}
