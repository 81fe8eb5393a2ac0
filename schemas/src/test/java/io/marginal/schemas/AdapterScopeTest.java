package io.marginal.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.schemas.topics.AdapterScope;
import org.junit.jupiter.api.Test;

class AdapterScopeTest {

  @Test
  void parsesWhatItPrintsAndTellsSharedFromUser() {
    AdapterScope user = AdapterScope.parse(AdapterScope.ofUser("alice"));
    assertEquals("user:alice", user.toString());
    assertFalse(user.shared());
    AdapterScope shared = AdapterScope.parse("shared:films");
    assertTrue(shared.shared());
    assertEquals("films", shared.name());
    assertEquals("shared-films", shared.adapterId());
  }

  @Test
  void refusesWhatNeitherTheTrainerNorANodeAccepts() {
    for (String bad : new String[] {null, "", "everyone", "user:", "shared:", "admin:root", "user:a b", "user:../x"}) {
      assertThrows(IllegalArgumentException.class, () -> AdapterScope.parse(bad), String.valueOf(bad));
    }
  }
}
