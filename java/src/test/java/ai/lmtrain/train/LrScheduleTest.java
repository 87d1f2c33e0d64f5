package ai.lmtrain.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Expected values computed by hand from transformers' lr_lambda formulas. */
class LrScheduleTest {
  private static final double EXACT = 1e-15;

  @Test
  void constantIgnoresWarmup() {
    LrSchedule schedule = LrSchedule.of("constant", 3e-4, 10, 100);
    assertEquals(3e-4, schedule.lr(0), EXACT);
    assertEquals(3e-4, schedule.lr(5), EXACT);
    assertEquals(3e-4, schedule.lr(1000), EXACT);
  }

  @Test
  void constantWithWarmupRampsThenHolds() {
    LrSchedule schedule = LrSchedule.of("constant_with_warmup", 1e-3, 4, 100);
    assertEquals(0.0, schedule.lr(0), EXACT);
    assertEquals(0.25e-3, schedule.lr(1), EXACT);
    assertEquals(0.75e-3, schedule.lr(3), EXACT);
    assertEquals(1e-3, schedule.lr(4), EXACT);
    assertEquals(1e-3, schedule.lr(500), EXACT);
  }

  @Test
  void linearWarmsUpThenDecaysToZeroAtTheLastStep() {
    // warmup 10, total 110: decay over 100 steps.
    LrSchedule schedule = LrSchedule.of("linear", 2.0, 10, 110);
    assertEquals(0.0, schedule.lr(0), EXACT);
    assertEquals(0.2, schedule.lr(1), EXACT);
    assertEquals(1.8, schedule.lr(9), EXACT);
    assertEquals(2.0, schedule.lr(10), EXACT);
    assertEquals(2.0 * 75 / 100, schedule.lr(35), EXACT);
    assertEquals(2.0 * 1 / 100, schedule.lr(109), EXACT);
    assertEquals(0.0, schedule.lr(110), EXACT);
    assertEquals(0.0, schedule.lr(200), EXACT);
  }

  @Test
  void linearWithoutWarmupStartsAtThePeak() {
    LrSchedule schedule = LrSchedule.of("linear", 1.0, 0, 4);
    assertEquals(1.0, schedule.factor(0), EXACT);
    assertEquals(0.75, schedule.factor(1), EXACT);
    assertEquals(0.25, schedule.factor(3), EXACT);
    assertEquals(0.0, schedule.factor(4), EXACT);
  }

  @Test
  void cosineFollowsHalfACosinePeriod() {
    // warmup 2, total 10: progress p = (s - 2) / 8; factor 0.5 (1 + cos(pi p)).
    LrSchedule schedule = LrSchedule.of("cosine", 1.0, 2, 10);
    assertEquals(0.0, schedule.factor(0), EXACT);
    assertEquals(0.5, schedule.factor(1), EXACT);
    assertEquals(1.0, schedule.factor(2), EXACT);
    assertEquals(0.5 * (1 + Math.cos(Math.PI / 8)), schedule.factor(3), EXACT); // 0.96193976625...
    assertEquals(0.9619397662556434, schedule.factor(3), 1e-15);
    assertEquals(0.5, schedule.factor(6), 1e-15); // p = 1/2
    assertEquals(0.5 * (1 - Math.sqrt(0.5)), schedule.factor(8), 1e-15); // p = 3/4: 0.14644660940...
    assertEquals(0.0, schedule.factor(10), 1e-15);
    // Past the end it rises again, as transformers' formula does.
    assertEquals(0.5 * (1 + Math.cos(Math.PI * 10 / 8)), schedule.factor(12), 1e-15);
  }

  @Test
  void warmupLongerThanTrainingIsAllowedLikeTransformers() {
    LrSchedule schedule = LrSchedule.of("linear", 1.0, 10, 5);
    assertEquals(0.5, schedule.factor(5), EXACT);
    assertEquals(0.0, schedule.factor(10), EXACT);
  }

  @Test
  void namesMatchTransformers() {
    for (LrSchedule.Kind kind : LrSchedule.Kind.values()) {
      assertEquals(kind, LrSchedule.Kind.fromHfName(kind.hfName()));
    }
    assertEquals("constant_with_warmup", LrSchedule.Kind.CONSTANT_WITH_WARMUP.hfName());
  }

  @Test
  void badArgumentsAreRejectedWithClearMessages() {
    IllegalArgumentException name = assertThrows(IllegalArgumentException.class,
        () -> LrSchedule.of("polynomial", 1, 0, 10));
    assertTrue(name.getMessage().contains("unknown lr_scheduler_type 'polynomial' (expected one of constant, "
        + "constant_with_warmup, linear, cosine)"), name.getMessage());
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.of("linear", -1, 0, 10));
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.of("linear", Double.NaN, 0, 10));
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.of("linear", 1, -1, 10));
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.of("linear", 1, 0, -10));
    IllegalArgumentException step = assertThrows(IllegalArgumentException.class,
        () -> LrSchedule.of("linear", 1, 0, 10).lr(-1));
    assertTrue(step.getMessage().contains("scheduler step must be >= 0, got -1"));
  }
}
