package io.marginal.streams.deletion;

import io.marginal.schemas.AdapterPublished;
import io.marginal.schemas.AdapterStatus;
import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;

/** Which published adapters were trained on any of the given source event ids. */
public final class AdapterLineage {

  private AdapterLineage() {
  }

  public static Set<String> trainedOn(Iterable<AdapterPublished> adapters, Collection<String> eventIds) {
    Set<String> ids = Set.copyOf(eventIds);
    Set<String> hit = new TreeSet<>();
    if (ids.isEmpty()) {
      return hit;
    }
    for (AdapterPublished a : adapters) {
      if (a.getStatus() == AdapterStatus.PUBLISHED && a.getLineage().stream().anyMatch(ids::contains)) {
        hit.add(a.getAdapterId());
      }
    }
    return hit;
  }
}
