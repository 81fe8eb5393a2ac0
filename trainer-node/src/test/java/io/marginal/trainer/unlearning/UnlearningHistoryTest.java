package io.marginal.trainer.unlearning;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.marginal.trainer.unlearning.UnlearningHistory.Entry;
import io.marginal.trainer.unlearning.UnlearningHistory.Item;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnlearningHistoryTest {

  @TempDir
  Path tmp;

  private static Entry entry(String id, String concept, String deletion, List<String> events, String retainPrompt) {
    return new Entry(id, concept, "GRAD_DIFF", List.of(new Item("p-" + id, "r " + concept, 1)),
        List.of(new Item(retainPrompt, "keep", 1)), events, deletion);
  }

  @Test
  void roundTripsAndListsLineage() {
    UnlearningHistory h = UnlearningHistory.EMPTY.plus(entry("r1", "Inception", "d1", List.of("e1"), "q1"))
        .plus(entry("r2", "Alien", null, List.of("e2"), "q2"));
    h.write(tmp);
    assertEquals(h, UnlearningHistory.read(tmp));
    assertEquals(List.of("request:r1", "deletion:d1", "request:r2", "e1", "e2"), h.lineage());
  }

  @Test
  void withoutDropsNamedRequestsAndExamplesWithDeletedPrompts() {
    UnlearningHistory h = UnlearningHistory.EMPTY.plus(entry("r1", "Inception", "d1", List.of("e1"), "q1"))
        .plus(entry("r2", "Alien", null, List.of("e2"), "q2"));
    UnlearningHistory kept = h.without(List.of("user-alice", "e1"), List.of("q2"));
    assertEquals(1, kept.entries().size());
    assertEquals("r2", kept.entries().get(0).requestId());
    assertEquals(List.of(), kept.entries().get(0).retain(), "the deleted prompt's retain example is gone");
  }
}
