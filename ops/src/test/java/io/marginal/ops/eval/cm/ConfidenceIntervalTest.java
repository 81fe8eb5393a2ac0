package io.marginal.ops.eval.cm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ConfidenceIntervalTest {

  @Test
  void studentTIntervalOverSeeds() {
    // mean 0.5, sample sd 0.1 (values 0.4, 0.5, 0.6), n = 3: half-width t(0.975, 2) · 0.1 / √3 = 4.303 · 0.0577
    ConfidenceInterval ci = ConfidenceInterval.of(List.of(0.4, 0.5, 0.6));
    assertEquals(0.5, ci.mean(), 1e-12);
    assertEquals(4.303 * 0.1 / Math.sqrt(3), ci.halfWidth(), 1e-9);
    assertEquals(3, ci.n());
    assertEquals(0, ConfidenceInterval.of(List.of(0.7)).halfWidth());
    assertEquals(2.042, ConfidenceInterval.tQuantile975(30), 1e-12);
    assertTrue(ConfidenceInterval.tQuantile975(1000) > 1.96 && ConfidenceInterval.tQuantile975(1000) < 1.97);
  }

  @Test
  void clearlyAboveOnlyWhenTheIntervalsDoNotOverlap() {
    ConfidenceInterval high = new ConfidenceInterval(0.8, 0.05, 5);
    assertTrue(high.clearlyAbove(new ConfidenceInterval(0.7, 0.04, 5)));
    assertFalse(high.clearlyAbove(new ConfidenceInterval(0.7, 0.06, 5)));
  }
}
