package io.marginal.ops.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class LatencyStatsTest {

  @Test
  void nearestRankPercentiles() {
    LatencyStats s = LatencyStats.of(IntStream.rangeClosed(1, 100).mapToObj(i -> (double) i).toList());
    assertEquals(100, s.count());
    assertEquals(50.0, s.p50());
    assertEquals(99.0, s.p99());
    assertEquals(100.0, s.max());
  }

  @Test
  void smallSamplesReportTheirMaximumAsP99() {
    LatencyStats s = LatencyStats.of(List.of(30.0, 10.0, 20.0));
    assertEquals(20.0, s.p50());
    assertEquals(30.0, s.p99());
  }

  @Test
  void emptyIsNotANumber() {
    LatencyStats s = LatencyStats.of(List.of());
    assertEquals(0, s.count());
    assertTrue(Double.isNaN(s.p50()));
    assertEquals("n=0", s.toString());
  }
}
