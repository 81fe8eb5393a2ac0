package io.marginal.inference.adapters;

import io.marginal.schemas.topics.AdapterScope;
import java.nio.file.Path;

/** A verified adapter version known to the node, whether or not its tensors are loaded right now. */
public record PublishedVersion(String adapterId, AdapterScope scope, int version, String sha256, Path directory) {
  public String label() {
    return ServedAdapter.label(adapterId, version, sha256);
  }
}
