package ai.lmtrain.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The activation arena: aligned bump allocation across blocks, the high-water mark, mark and rewind. */
class ArenaTest {

  @Test
  void rewindReleasesOnlyWhatCameAfterTheMarkAndKeepsTheHighWater() {
    try (CpuBackend backend = new CpuBackend(); Arena arena = new Arena(backend, 1024)) {
      Tensor kept = arena.allocate(DType.F32, 100); // 400 bytes, 512 aligned
      backend.upload(kept, new float[100]);
      Arena.Mark mark = arena.mark();
      Tensor first = arena.allocate(DType.F32, 64);
      Tensor large = arena.allocate(DType.F32, 1000); // does not fit the first block: a second one
      assertEquals(512 + 256 + 4096, arena.highWaterBytes());
      arena.rewind(mark);
      Tensor again = arena.allocate(DType.F32, 64);
      assertEquals(first.address(), again.address(), "the memory after the mark is handed out again");
      Tensor largeAgain = arena.allocate(DType.F32, 1000);
      assertEquals(large.address(), largeAgain.address(), "the second block is reused, not reallocated");
      assertEquals(512 + 256 + 4096, arena.highWaterBytes(), "reusing released memory does not raise the peak");
      assertArrayEquals(new float[100], backend.downloadFloats(kept), "what came before the mark is untouched");

      arena.rewind(mark);
      arena.allocate(DType.F32, 2000);
      assertEquals(512 + 8192, arena.highWaterBytes());
      Arena.Mark later = arena.mark();
      arena.rewind(mark);
      assertThrows(IllegalArgumentException.class, () -> arena.rewind(later), "a mark past the current point");
    }
  }
}
