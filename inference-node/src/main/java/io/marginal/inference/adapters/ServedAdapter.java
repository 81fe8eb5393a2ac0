package io.marginal.inference.adapters;

import io.marginal.model.lora.LoraAdapter;
import io.marginal.schemas.topics.AdapterScope;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One loaded, verified adapter version and who holds it. The registry holds one reference; every
 * request that uses it holds another for its whole duration. Retiring drops the registry's
 * reference; the tensors are freed when the last request using them finishes, so a swap never
 * pulls weights out from under a running generation.
 */
public final class ServedAdapter {

  private final String adapterId;
  private final AdapterScope scope;
  private final int version;
  private final String sha256;
  private final LoraAdapter adapter;
  private final Instant activatedAt;
  private final long sizeBytes;
  private final AtomicInteger references = new AtomicInteger(1);
  private final AtomicBoolean retired = new AtomicBoolean();

  public ServedAdapter(String adapterId, AdapterScope scope, int version, String sha256, LoraAdapter adapter, Instant activatedAt) {
    this.adapterId = adapterId;
    this.scope = scope;
    this.version = version;
    this.sha256 = sha256;
    this.adapter = adapter;
    this.activatedAt = activatedAt;
    this.sizeBytes = adapter.sizeBytes();
  }

  /** Native bytes of the adapter's tensors (measured when loaded). */
  public long sizeBytes() {
    return sizeBytes;
  }

  /** Takes a reference for a request; false once the adapter has been retired and freed. */
  boolean tryAcquire() {
    while (true) {
      int n = references.get();
      if (n <= 0) {
        return false;
      }
      if (references.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  void release() {
    if (references.decrementAndGet() == 0) {
      adapter.close();
    }
  }

  /** Drops the registry's reference (once). */
  void retire() {
    if (retired.compareAndSet(false, true)) {
      release();
    }
  }

  public boolean isFreed() {
    return references.get() <= 0;
  }

  public String adapterId() {
    return adapterId;
  }

  public AdapterScope scope() {
    return scope;
  }

  public int version() {
    return version;
  }

  public String sha256() {
    return sha256;
  }

  public LoraAdapter adapter() {
    return adapter;
  }

  public Instant activatedAt() {
    return activatedAt;
  }

  /** {@code adapterId@version:sha256-prefix}, as recorded in interactions. */
  public String label() {
    return label(adapterId, version, sha256);
  }

  public static String label(String adapterId, int version, String sha256) {
    return adapterId + "@" + version + ":" + (sha256 == null ? "" : sha256.substring(0, Math.min(12, sha256.length())));
  }
}
