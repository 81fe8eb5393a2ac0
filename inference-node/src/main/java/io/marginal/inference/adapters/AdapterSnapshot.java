package io.marginal.inference.adapters;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the node serves at one instant: the loaded shared adapters (applied to everyone, in
 * adapter-id order) and the latest verified version of each user's adapter (loaded on demand
 * through the per-user cache). Immutable; the registry replaces it whole.
 */
public record AdapterSnapshot(Map<String, ServedAdapter> shared, Map<String, PublishedVersion> userAdapters, long generation) {

  public static final AdapterSnapshot EMPTY = new AdapterSnapshot(Map.of(), Map.of(), 0);

  public AdapterSnapshot {
    shared = Collections.unmodifiableMap(new TreeMap<>(shared));
    userAdapters = Collections.unmodifiableMap(new TreeMap<>(userAdapters));
  }

  AdapterSnapshot withShared(ServedAdapter adapter) {
    Map<String, ServedAdapter> next = new TreeMap<>(shared);
    next.put(adapter.adapterId(), adapter);
    return new AdapterSnapshot(next, userAdapters, generation + 1);
  }

  AdapterSnapshot withoutShared(String adapterId) {
    Map<String, ServedAdapter> next = new TreeMap<>(shared);
    next.remove(adapterId);
    return new AdapterSnapshot(next, userAdapters, generation + 1);
  }

  AdapterSnapshot withUser(String userId, PublishedVersion version) {
    Map<String, PublishedVersion> next = new TreeMap<>(userAdapters);
    next.put(userId, version);
    return new AdapterSnapshot(shared, next, generation + 1);
  }

  AdapterSnapshot withoutUser(String userId) {
    Map<String, PublishedVersion> next = new TreeMap<>(userAdapters);
    next.remove(userId);
    return new AdapterSnapshot(shared, next, generation + 1);
  }

  /** The user whose adapter has this id, if any. */
  public String userOf(String adapterId) {
    return userAdapters.entrySet().stream().filter(e -> e.getValue().adapterId().equals(adapterId))
        .map(Map.Entry::getKey).findFirst().orElse(null);
  }
}
