package io.marginal.inference.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class IntraOpThreadsTest {

  @Test
  void defaultsToOneThread() {
    assertEquals(1, IntraOpThreads.choose(null, Map.of()));
  }

  @Test
  void environmentOverridesDefaultAndPropertyOverridesEnvironment() {
    assertEquals(3, IntraOpThreads.choose(null, Map.of(IntraOpThreads.ENV, "3")));
    assertEquals(2, IntraOpThreads.choose("2", Map.of(IntraOpThreads.ENV, "3")));
  }

  @Test
  void refusesNonsenseNamingTheSetting() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> IntraOpThreads.choose(null, Map.of(IntraOpThreads.ENV, "zero")));
    assertTrue(e.getMessage().contains(IntraOpThreads.ENV), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> IntraOpThreads.choose("0", Map.of()));
  }
}
