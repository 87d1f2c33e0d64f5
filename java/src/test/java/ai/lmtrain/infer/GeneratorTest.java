package ai.lmtrain.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lmtrain.models.Gpt2LMHeadModel;
import ai.lmtrain.models.TinyModels;
import ai.lmtrain.tensor.CpuBackend;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Generation with the KV cache equals generation that re-runs the whole sequence at every step. */
class GeneratorTest {
  private static CpuBackend backend;
  private static Gpt2LMHeadModel model;

  @BeforeAll
  static void open() {
    backend = new CpuBackend();
    model = TinyModels.gpt2(backend, 99);
  }

  @AfterAll
  static void close() {
    model.close();
    backend.close();
  }

  @Test
  void kvCacheGivesTheSameTokensAsFullRecomputation() {
    Generator g = new Generator(model);
    int[] prompt = {5, 17, 3};
    for (SamplingConfig sampling : List.of(SamplingConfig.greedy(), SamplingConfig.sampling(7),
        SamplingConfig.sampling(8).withTemperature(0.7f).withTopK(5).withTopP(0.9f).withRepetitionPenalty(1.3f))) {
      int[] cached = g.generate(prompt, 9, sampling, -1, true);
      int[] full = g.generate(prompt, 9, sampling, -1, false);
      assertArrayEquals(full, cached, "cache vs no cache with " + sampling);
      assertEquals(12, cached.length);
      assertArrayEquals(prompt, java.util.Arrays.copyOf(cached, 3));
    }
  }

  @Test
  void incrementalLogitsMatchAFullForward() {
    int[] ids = {1, 2, 3, 4, 5, 6, 7};
    try (Gpt2LMHeadModel.Decoding decoding = model.startDecoding(12);
        ai.lmtrain.tensor.Arena arena = new ai.lmtrain.tensor.Arena(backend, 1 << 16)) {
      decoding.feed(arena, java.util.Arrays.copyOf(ids, 3));
      float[] step = null;
      for (int i = 3; i < ids.length; i++) {
        step = decoding.feed(arena, new int[] {ids[i]});
      }
      List<TopK.Candidate> full = new Generator(model).nextTokens(ids, 5);
      List<TopK.Candidate> incremental = TopK.of(step, 5);
      for (int i = 0; i < 5; i++) {
        assertEquals(full.get(i).id(), incremental.get(i).id());
        assertEquals(full.get(i).probability(), incremental.get(i).probability(), 1e-6);
      }
    }
  }

  @Test
  void stopsAtEosAndRejectsBadArguments() {
    Generator g = new Generator(model);
    int[] greedy = g.generate(new int[] {5}, 6, SamplingConfig.greedy(), -1, true);
    int eos = greedy[2];
    int[] stopped = g.generate(new int[] {5}, 6, SamplingConfig.greedy(), eos, true);
    assertEquals(eos, stopped[stopped.length - 1]);
    assertTrue(stopped.length <= 3);
    assertThrows(IllegalArgumentException.class, () -> g.generate(new int[0], 3, SamplingConfig.greedy(), -1, true));
    IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
        () -> g.generate(new int[13], 3, SamplingConfig.greedy(), -1, true));
    assertEquals("the prompt has 13 tokens but the model takes at most 12 positions", tooLong.getMessage());
    // Past the positions is an error up front (transformers warns, then GPT-2's position table fails),
    // not a shorter result; Integer.MAX_VALUE new tokens does not overflow into a negative size.
    for (int n : new int[] {10, Integer.MAX_VALUE}) {
      IllegalArgumentException past = assertThrows(IllegalArgumentException.class,
          () -> g.generate(new int[] {5, 6, 7}, n, SamplingConfig.greedy(), -1, true));
      assertEquals("the prompt has 3 tokens, so max_new_tokens can be at most 9 for the model's 12 positions"
          + " (n_positions); got " + n, past.getMessage());
    }
    assertEquals(12, g.generate(new int[] {5, 6, 7}, 9, SamplingConfig.greedy(), -1, true).length);
  }
}
