package io.marginal.trainer.store;

import java.net.URI;

/**
 * One adapter version in the store.
 *
 * @param uri       the version's directory ({@code file:} URI): PEFT layout + adapter_manifest.json
 * @param sha256    of adapter_model.safetensors
 * @param requestId the unlearning request that produced it (idempotency key)
 */
public record StoredAdapter(String adapterId, int version, URI uri, String sha256, long sizeBytes, String requestId) {

  public String label() {
    return adapterId + "@" + version;
  }
}
