package io.marginal.inference.adapters;

import io.marginal.model.LanguageModel;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The adapters this node serves, swapped atomically: one immutable {@link AdapterSnapshot}
 * behind an {@link AtomicReference}. A request captures the snapshot once, at its start, through
 * {@link #lease}; a swap installs a new snapshot and retires the replaced version, whose tensors
 * are freed when the last request holding it finishes.
 */
public final class AdapterRegistry implements AutoCloseable {

  private final AtomicReference<AdapterSnapshot> current = new AtomicReference<>(AdapterSnapshot.EMPTY);
  private final UserAdapterCache userCache;
  private final AdapterVerifier verifier;
  private final LanguageModel model;
  private volatile Runnable sharedChanged = () -> { };

  public AdapterRegistry(UserAdapterCache userCache, AdapterVerifier verifier, LanguageModel model) {
    this.userCache = userCache;
    this.verifier = verifier;
    this.model = model;
  }

  public AdapterSnapshot snapshot() {
    return current.get();
  }

  public UserAdapterCache userCache() {
    return userCache;
  }

  /** Makes {@code adapter} the served version of its id, for requests that start from now on. */
  public synchronized void activateShared(ServedAdapter adapter) {
    AdapterSnapshot before = current.get();
    ServedAdapter replaced = before.shared().get(adapter.adapterId());
    current.set(before.withShared(adapter));
    if (replaced != null) {
      replaced.retire();
    }
    sharedChanged.run();
  }

  /**
   * Called after every change of the shared adapters, on the thread that made it, inside this
   * registry's lock: it must only hand the work on (e.g. schedule a merge, {@link #leaseShared}).
   */
  public void onSharedChange(Runnable listener) {
    this.sharedChanged = listener;
  }

  /** The shared adapters served now, referenced until the lease is closed (what a request of the base model id uses, less its own). */
  public AdapterLease leaseShared() {
    return lease(null, AdapterSelection.ALL);
  }

  /** Makes {@code version} the user's adapter; {@code loaded} (already verified) warms the cache. */
  public synchronized void activateUser(String userId, PublishedVersion version, ServedAdapter loaded) {
    current.set(current.get().withUser(userId, version));
    userCache.put(loaded);
  }

  /** Stops serving {@code adapterId} (withdrawn); returns the version that was served. */
  public synchronized Optional<String> withdraw(String adapterId) {
    AdapterSnapshot before = current.get();
    ServedAdapter shared = before.shared().get(adapterId);
    if (shared != null) {
      current.set(before.withoutShared(adapterId));
      shared.retire();
      sharedChanged.run();
      return Optional.of(shared.label());
    }
    String user = before.userOf(adapterId);
    if (user != null) {
      PublishedVersion v = before.userAdapters().get(user);
      current.set(before.withoutUser(user));
      userCache.removeAdapter(adapterId);
      return Optional.of(v.label());
    }
    return Optional.empty();
  }

  /** The served version of {@code adapterId}, if any: {@code (version, sha256)}. */
  public Optional<PublishedVersion> served(String adapterId) {
    AdapterSnapshot s = current.get();
    ServedAdapter shared = s.shared().get(adapterId);
    if (shared != null) {
      return Optional.of(new PublishedVersion(shared.adapterId(), shared.scope(), shared.version(), shared.sha256(), null));
    }
    String user = s.userOf(adapterId);
    return user == null ? Optional.empty() : Optional.of(s.userAdapters().get(user));
  }

  /** Whether {@code userId} may ask for {@code adapterId} by name: a shared adapter, or their own. */
  public boolean visibleTo(String adapterId, String userId) {
    AdapterSnapshot s = current.get();
    if (s.shared().containsKey(adapterId)) {
      return true;
    }
    PublishedVersion own = s.userAdapters().get(userId);
    return own != null && own.adapterId().equals(adapterId);
  }

  /**
   * The adapters for one request of {@code userId}, referenced until the lease is closed. May load
   * the user's adapter from the store (blocking): call it on a model worker, never the event loop.
   *
   * @throws NoSuchElementException if the selection names an adapter the node no longer serves
   */
  public AdapterLease lease(String userId, AdapterSelection selection) {
    while (true) {
      AdapterSnapshot s = current.get();
      List<ServedAdapter> taken = new ArrayList<>();
      boolean complete = true;
      if (selection.kind() != AdapterSelection.Kind.NONE) {
        for (ServedAdapter a : s.shared().values()) {
          if (selection.kind() == AdapterSelection.Kind.ONLY && !a.adapterId().equals(selection.adapterId())) {
            continue;
          }
          if (a.tryAcquire()) {
            taken.add(a);
          } else {
            complete = false; // retired between reading the snapshot and taking it: read the new snapshot
            break;
          }
        }
        PublishedVersion own = userId == null ? null : s.userAdapters().get(userId);
        boolean wantOwn = own != null && (selection.kind() == AdapterSelection.Kind.ALL || own.adapterId().equals(selection.adapterId()));
        if (complete && wantOwn) {
          try {
            taken.add(userCache.acquire(own, this::loadUserAdapter));
          } catch (RuntimeException e) {
            taken.forEach(ServedAdapter::release);
            throw e;
          }
        }
        if (complete && selection.kind() == AdapterSelection.Kind.ONLY && taken.isEmpty()) {
          throw new NoSuchElementException("adapter " + selection.adapterId() + " is not served by this node");
        }
      }
      if (complete) {
        return new AdapterLease(taken);
      }
      taken.forEach(ServedAdapter::release);
    }
  }

  /**
   * Starts loading {@code userId}'s adapter in the background if it is not loaded (a user's first
   * request: the load overlaps the rest of the request's preparation). Never blocks.
   */
  public void prefetch(String userId) {
    PublishedVersion own = current.get().userAdapters().get(userId);
    if (own != null) {
      userCache.prefetch(own, this::loadUserAdapter);
    }
  }

  private ServedAdapter loadUserAdapter(PublishedVersion v) {
    return new ServedAdapter(v.adapterId(), v.scope(), v.version(), v.sha256(),
        verifier.load(v, model, "not serving it to this request"), Instant.now());
  }

  @Override
  public synchronized void close() {
    current.get().shared().values().forEach(ServedAdapter::retire);
    current.set(AdapterSnapshot.EMPTY);
    userCache.close();
  }
}
