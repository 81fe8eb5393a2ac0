package io.marginal.streams.topology;

import io.marginal.schemas.DeletionRequest;
import io.marginal.schemas.DeletionScope;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.Interaction;
import io.marginal.streams.deletion.DeletionMatcher;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
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
 *
 * <p>Every interaction and feedback event asks "is a recent deletion of this user covering me?", so the
 * answer comes from an in-memory index (user → recent deletions, and the keys of parked interactions),
 * not from a prefix scan: an iterator per event costs a JMX metric registration in Kafka Streams
 * (KAFKA-19678). The stores stay the durable copy (changelogged); the index is rebuilt from them by
 * {@link #rebuild()} when the task (re)starts, i.e. after restoration.
 */
final class LateArrivals {

  private final TimestampedKeyValueStore<String, DeletionRequest> deletions;
  private final KeyValueStore<String, Interaction> parked;
  /** user → recent deletions of that user (with their record time). */
  private final Map<String, List<Remembered>> byUser = new HashMap<>();
  /** Keys of parked interactions, sorted so that one deletion's are adjacent. */
  private final TreeSet<String> parkedKeys = new TreeSet<>();

  private record Remembered(String key, DeletionRequest request, long timestamp) {
  }

  LateArrivals(TimestampedKeyValueStore<String, DeletionRequest> deletions, KeyValueStore<String, Interaction> parked) {
    this.deletions = deletions;
    this.parked = parked;
  }

  /** Late matches of one unlearning deletion: the request and the interactions it covers. */
  record Parked(String user, DeletionRequest deletion, List<Interaction> interactions) {}

  /** Reloads the in-memory index from the stores (one scan each, at task start). */
  void rebuild() {
    byUser.clear();
    parkedKeys.clear();
    try (KeyValueIterator<String, ValueAndTimestamp<DeletionRequest>> it = deletions.all()) {
      it.forEachRemaining(kv -> index(kv.key, kv.value.value(), kv.value.timestamp()));
    }
    try (KeyValueIterator<String, Interaction> it = parked.all()) {
      it.forEachRemaining(kv -> parkedKeys.add(kv.key));
    }
  }

  /** Remembers a deletion that was carried out at record time {@code timestamp}. */
  void remember(String user, DeletionRequest request, long timestamp) {
    String key = key(user, request.getDeletionId());
    deletions.put(key, ValueAndTimestamp.make(request, timestamp));
    index(key, request, timestamp);
  }

  /**
   * The deletion (asked at or after {@code timestamp}) that covers this interaction, if any; a covering
   * concept or preference deletion parks the interaction for unlearning.
   */
  Optional<DeletionRequest> coverInteraction(String user, Interaction interaction, long timestamp) {
    for (Remembered d : byUser.getOrDefault(user, List.of())) {
      if (d.timestamp() >= timestamp && new DeletionMatcher(d.request()).interactions().test(interaction)) {
        DeletionScope scope = d.request().getScope();
        if (scope == DeletionScope.CONCEPT || scope == DeletionScope.PREFERENCE) {
          String parkedKey = d.key() + StoreKeys.SEP + interaction.getInteractionId();
          parked.put(parkedKey, interaction);
          parkedKeys.add(parkedKey);
        }
        return Optional.of(d.request());
      }
    }
    return Optional.empty();
  }

  /** The deletion (asked at or after {@code timestamp}) that names this feedback or its interaction, if any. */
  Optional<DeletionRequest> coverFeedback(String user, Feedback feedback, long timestamp) {
    for (Remembered d : byUser.getOrDefault(user, List.of())) {
      if (d.timestamp() >= timestamp && new DeletionMatcher(d.request()).pendingFeedback().test(feedback)) {
        return Optional.of(d.request());
      }
    }
    return Optional.empty();
  }

  /** Takes every parked interaction out, grouped per deletion (point lookups; nothing to do when none is parked). */
  List<Parked> drain() {
    if (parkedKeys.isEmpty()) {
      return List.of();
    }
    Map<String, List<Interaction>> groups = new LinkedHashMap<>();
    for (String key : parkedKeys) {
      Interaction interaction = parked.get(key);
      parked.put(key, null);
      if (interaction != null) {
        groups.computeIfAbsent(key.substring(0, key.lastIndexOf(StoreKeys.SEP)), k -> new ArrayList<>()).add(interaction);
      }
    }
    parkedKeys.clear();
    List<Parked> out = new ArrayList<>();
    groups.forEach((deletionKey, items) -> {
      ValueAndTimestamp<DeletionRequest> d = deletions.get(deletionKey);
      if (d != null) {
        out.add(new Parked(deletionKey.substring(0, deletionKey.indexOf(StoreKeys.SEP)), d.value(), items));
      }
    });
    return out;
  }

  /** Forgets deletions carried out before {@code cutoff} (record time); returns the users whose deletions went. */
  java.util.Set<String> expire(long cutoff) {
    java.util.Set<String> users = new java.util.HashSet<>();
    for (Iterator<Map.Entry<String, List<Remembered>>> it = byUser.entrySet().iterator(); it.hasNext(); ) {
      List<Remembered> list = it.next().getValue();
      list.removeIf(d -> {
        if (d.timestamp() < cutoff) {
          deletions.put(d.key(), null);
          users.add(d.key().substring(0, d.key().indexOf(StoreKeys.SEP)));
          return true;
        }
        return false;
      });
      if (list.isEmpty()) {
        it.remove();
      }
    }
    return users;
  }

  private void index(String key, DeletionRequest request, long timestamp) {
    List<Remembered> list = byUser.computeIfAbsent(key.substring(0, key.indexOf(StoreKeys.SEP)), u -> new ArrayList<>());
    list.removeIf(d -> d.key().equals(key));
    list.add(new Remembered(key, request, timestamp));
  }

  private static String key(String user, String deletionId) {
    return user + StoreKeys.SEP + deletionId;
  }
}
