package io.marginal.streams.topology;

import io.marginal.schemas.DeletionRequest;
import io.marginal.schemas.DeletionScope;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.Interaction;
import io.marginal.streams.deletion.DeletionMatcher;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;

/**
 * Deletions reach records that arrive after them. Interactions, feedback and deletions come on three
 * topics with no order between them, so a user who chats and at once says "forget Inception" (or
 * "delete all my data") can have the deletion processed before the interaction it is about. Each
 * deletion is therefore remembered for the late-arrival window; a later interaction or feedback whose
 * record timestamp is not after the deletion's, and that the deletion names, is never stored. For a
 * concept or preference deletion such an interaction is parked here until the processor's wall-clock
 * punctuation sends it for unlearning (late matches of one burst go out as one request).
 */
final class LateArrivals {

  private static final StringSerializer KEYS = new StringSerializer();

  private final TimestampedKeyValueStore<String, DeletionRequest> deletions;
  private final KeyValueStore<String, Interaction> parked;

  LateArrivals(TimestampedKeyValueStore<String, DeletionRequest> deletions, KeyValueStore<String, Interaction> parked) {
    this.deletions = deletions;
    this.parked = parked;
  }

  /** Late matches of one unlearning deletion: the request and the interactions it covers. */
  record Parked(String user, DeletionRequest deletion, List<Interaction> interactions) {}

  /** Remembers a deletion that was carried out at record time {@code timestamp}. */
  void remember(String user, DeletionRequest request, long timestamp) {
    deletions.put(key(user, request.getDeletionId()), ValueAndTimestamp.make(request, timestamp));
  }

  /**
   * The deletion (asked at or after {@code timestamp}) that covers this interaction, if any; a covering
   * concept or preference deletion parks the interaction for unlearning.
   */
  Optional<DeletionRequest> coverInteraction(String user, Interaction interaction, long timestamp) {
    for (ValueAndTimestamp<DeletionRequest> d : deletionsOf(user)) {
      if (d.timestamp() >= timestamp && new DeletionMatcher(d.value()).interactions().test(interaction)) {
        DeletionScope scope = d.value().getScope();
        if (scope == DeletionScope.CONCEPT || scope == DeletionScope.PREFERENCE) {
          parked.put(key(user, d.value().getDeletionId()) + StoreKeys.SEP + interaction.getInteractionId(), interaction);
        }
        return Optional.of(d.value());
      }
    }
    return Optional.empty();
  }

  /** The deletion (asked at or after {@code timestamp}) that names this feedback or its interaction, if any. */
  Optional<DeletionRequest> coverFeedback(String user, Feedback feedback, long timestamp) {
    for (ValueAndTimestamp<DeletionRequest> d : deletionsOf(user)) {
      if (d.timestamp() >= timestamp && new DeletionMatcher(d.value()).pendingFeedback().test(feedback)) {
        return Optional.of(d.value());
      }
    }
    return Optional.empty();
  }

  /** Takes every parked interaction out, grouped per deletion. */
  List<Parked> drain() {
    Map<String, List<KeyValue<String, Interaction>>> groups = new LinkedHashMap<>();
    try (KeyValueIterator<String, Interaction> it = parked.all()) {
      it.forEachRemaining(kv -> groups.computeIfAbsent(kv.key.substring(0, kv.key.lastIndexOf(StoreKeys.SEP)), k -> new ArrayList<>())
          .add(kv));
    }
    List<Parked> out = new ArrayList<>();
    groups.forEach((deletionKey, items) -> {
      items.forEach(kv -> parked.delete(kv.key));
      ValueAndTimestamp<DeletionRequest> d = deletions.get(deletionKey);
      if (d != null) {
        out.add(new Parked(deletionKey.substring(0, deletionKey.indexOf(StoreKeys.SEP)), d.value(),
            items.stream().map(kv -> kv.value).toList()));
      }
    });
    return out;
  }

  /** Forgets deletions carried out before {@code cutoff} (record time). */
  void expire(long cutoff) {
    List<String> old = new ArrayList<>();
    try (KeyValueIterator<String, ValueAndTimestamp<DeletionRequest>> it = deletions.all()) {
      it.forEachRemaining(kv -> {
        if (kv.value.timestamp() < cutoff) {
          old.add(kv.key);
        }
      });
    }
    old.forEach(deletions::delete);
  }

  private List<ValueAndTimestamp<DeletionRequest>> deletionsOf(String user) {
    List<ValueAndTimestamp<DeletionRequest>> out = new ArrayList<>();
    try (KeyValueIterator<String, ValueAndTimestamp<DeletionRequest>> it = deletions.prefixScan(StoreKeys.userPrefix(user), KEYS)) {
      it.forEachRemaining(kv -> out.add(kv.value));
    }
    return out;
  }

  private static String key(String user, String deletionId) {
    return user + StoreKeys.SEP + deletionId;
  }
}
