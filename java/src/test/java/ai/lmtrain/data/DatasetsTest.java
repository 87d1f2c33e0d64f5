package ai.lmtrain.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.lmtrain.tokenizers.TokenizerException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {

  @Test
  void chunkingConcatenatesAndDropsTheRemainder() {
    ChunkedDataset d = new ChunkedDataset(List.of(new int[] {1, 2, 3}, new int[] {4, 5, 6, 7}, new int[] {8}), 3);
    assertEquals(2, d.size());
    assertArrayEquals(new int[] {1, 2, 3}, d.get(0));
    assertArrayEquals(new int[] {4, 5, 6}, d.get(1));
  }

  @Test
  void slidingWindowTargetsAreTheNextTokens() {
    int[] stream = IntStream.range(0, 10).toArray();
    SlidingWindowDataset d = new SlidingWindowDataset(stream, 4, 3);
    assertEquals(2, d.size()); // windows at 0 and 3; at 6 the last target (10) is missing
    assertArrayEquals(new int[] {3, 4, 5, 6}, d.get(1));
    assertArrayEquals(new int[] {4, 5, 6, 7}, d.targets(1));
    assertEquals(0, new SlidingWindowDataset(new int[] {1, 2, 3}, 3, 1).size());
  }

  @Test
  void splitIsDeterministicAndDisjoint() {
    List<Integer> all = IntStream.range(0, 100).boxed().toList();
    TrainValidationSplit<Integer> a = TrainValidationSplit.of(all, 0.1, 7);
    TrainValidationSplit<Integer> b = TrainValidationSplit.of(all, 0.1, 7);
    assertEquals(a, b);
    assertEquals(10, a.validation().size());
    assertEquals(90, a.train().size());
    List<Integer> union = new ArrayList<>(a.train());
    union.addAll(a.validation());
    assertEquals(100, union.stream().distinct().count());
    assertNotEquals(a.validation(), TrainValidationSplit.of(all, 0.1, 8).validation());
  }

  @Test
  void textSourceReadsLinesAndDocuments(@TempDir Path dir) throws Exception {
    Path f = Files.writeString(dir.resolve("a.txt"), "one\n\n  \ntwo\r\nthree");
    assertEquals(List.of("one", "two", "three"), TextSource.lines(List.of(f)));
    assertEquals(List.of("one\n\n  \ntwo\nthree"), TextSource.documents(List.of(f)));
    assertEquals(30, TextSource.bundledLines("toy_corpus.txt").size());
    Path empty = Files.writeString(dir.resolve("e.txt"), "\n");
    assertEquals("[" + empty + "]: no text found, expected UTF-8 text",
        assertThrows(TokenizerException.class, () -> TextSource.lines(List.of(empty))).getMessage());
  }
}
