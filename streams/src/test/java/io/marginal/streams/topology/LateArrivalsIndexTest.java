package io.marginal.streams.topology;

import static io.marginal.streams.topology.Events.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.schemas.DeletionRequest;
import io.marginal.schemas.DeletionScope;
import io.marginal.schemas.Interaction;
import io.marginal.schemas.serde.MarginalSerdes;
import java.util.List;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.junit.jupiter.api.Test;

/**
 * The in-memory index of recent deletions and parked late matches is only a cache of their stores: a
 * fresh {@link LateArrivals} over the same stores (what a restarted or revived task gets after restoration)
 * answers the same after {@link LateArrivals#rebuild()}.
 */
class LateArrivalsIndexTest {

  @Test
  void aRebuiltIndexAnswersFromTheStoresAsTheOldOneDid() {
    MockProcessorContext<Object, Object> context = new MockProcessorContext<>();
    TimestampedKeyValueStore<String, DeletionRequest> deletions = Stores.timestampedKeyValueStoreBuilder(
        Stores.inMemoryKeyValueStore("recent-deletions"), Serdes.String(), MarginalSerdes.DELETION_REQUEST).withLoggingDisabled().build();
    KeyValueStore<String, Interaction> parked = Stores.keyValueStoreBuilder(
        Stores.inMemoryKeyValueStore("late-deletion-matches"), Serdes.String(), MarginalSerdes.INTERACTION).withLoggingDisabled().build();
    deletions.init(context.getStateStoreContext(), deletions);
    parked.init(context.getStateStoreContext(), parked);

    LateArrivals before = new LateArrivals(deletions, parked);
    before.rebuild();
    before.remember("alice", Events.deletion("alice", "d-1", DeletionScope.CONCEPT, List.of(), "Inception", T0 + 100), T0 + 100);
    before.remember("bob", Events.deletion("bob", "d-2", DeletionScope.ALL_USER_DATA, List.of(), null, T0 + 50), T0 + 50);
    Interaction late = Events.interaction("alice", "i-1", "a film about dreams?", "Inception", T0);
    assertTrue(before.coverInteraction("alice", late, T0).isPresent(), "parks it for unlearning");

    LateArrivals after = new LateArrivals(deletions, parked);
    after.rebuild();
    assertEquals("d-2", after.coverFeedback("bob", Events.preferred("bob", "f-9", "i-9", "x", T0), T0).orElseThrow().getDeletionId());
    assertTrue(after.coverFeedback("bob", Events.preferred("bob", "f-9", "i-9", "x", T0 + 60), T0 + 60).isEmpty(),
        "records after the deletion are kept");
    assertTrue(after.coverInteraction("carol", Events.interaction("carol", "i-2", "q", "Inception", T0), T0).isEmpty());
    List<LateArrivals.Parked> drained = after.drain();
    assertEquals(1, drained.size());
    assertEquals("d-1", drained.get(0).deletion().getDeletionId());
    assertEquals(List.of("i-1"), drained.get(0).interactions().stream().map(Interaction::getInteractionId).toList());
    assertTrue(after.drain().isEmpty(), "drained once");

    assertEquals(java.util.Set.of("bob"), after.expire(T0 + 60), "bob's deletion is older than the cutoff");
    after.rebuild();
    assertTrue(after.coverFeedback("bob", Events.preferred("bob", "f-9", "i-9", "x", T0), T0).isEmpty(), "expired in the store too");
    assertTrue(after.coverInteraction("alice", late, T0).isPresent());
  }
}
