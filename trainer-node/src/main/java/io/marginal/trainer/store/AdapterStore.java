package io.marginal.trainer.store;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where published adapters live. Inference nodes read a version from the URI in its
 * {@code adapters} event; the trainer writes versions here before announcing them.
 */
public interface AdapterStore {

  /**
   * Moves a finished adapter directory (PEFT layout + adapter_manifest.json) into the store as
   * {@code adapterId} version {@code version}, atomically: readers see all of it or nothing.
   */
  StoredAdapter put(String adapterId, int version, String requestId, Path builtAdapterDir);

  /** Every version of an adapter, oldest first. */
  List<StoredAdapter> versions(String adapterId);

  default Optional<StoredAdapter> latest(String adapterId) {
    List<StoredAdapter> all = versions(adapterId);
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
  }

  /** The version that a given request already produced, if any (so a redelivered request is not trained twice). */
  default Optional<StoredAdapter> producedBy(String adapterId, String requestId) {
    return versions(adapterId).stream().filter(a -> a.requestId().equals(requestId)).findFirst();
  }

  /** Removes one version's files (exact forgetting of a per-user adapter). */
  void delete(String adapterId, int version);
}
