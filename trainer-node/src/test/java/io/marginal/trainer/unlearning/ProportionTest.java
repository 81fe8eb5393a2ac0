package io.marginal.trainer.unlearning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ProportionTest {

  @Test
  void wilsonIntervalMatchesTheTextbookValues() {
    Proportion p = new Proportion(8, 10);
    assertEquals(0.8, p.rate(), 1e-12);
    assertEquals(0.4902, p.low(), 1e-4);
    assertEquals(0.9433, p.high(), 1e-4);
    Proportion zero = new Proportion(0, 40);
    assertEquals(0, zero.low(), 1e-12);
    assertEquals(0.0876, zero.high(), 1e-4);
  }

  @Test
  void moreTrialsNarrowTheInterval() {
    Proportion small = new Proportion(19, 20);
    Proportion large = new Proportion(190, 200);
    assertTrue(large.high() - large.low() < small.high() - small.low());
    assertThrows(IllegalArgumentException.class, () -> new Proportion(3, 2));
    assertTrue(Double.isNaN(new Proportion(0, 0).rate()));
  }
}
