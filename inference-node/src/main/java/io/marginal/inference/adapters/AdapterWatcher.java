package io.marginal.inference.adapters;

import io.marginal.inference.kafka.EventPublisher;
import io.marginal.inference.kafka.TopicTail;
import io.marginal.inference.metrics.NodeMetrics;
import io.marginal.model.LanguageModel;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.schemas.ActivationState;
import io.marginal.schemas.AdapterActivation;
import io.marginal.schemas.AdapterPublished;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.AdapterKeys;
import io.marginal.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the adapters topic and keeps the registry in step with it: each PUBLISHED version is
 * verified (checksum, manifest, tensor shapes) and loaded on this reader's thread — never on the
 * event loop — then swapped in, then acknowledged ACTIVE on adapter-activations with the swap
 * latency. A version that fails verification is acknowledged REJECTED with the reason, and the
 * previous version keeps serving. WITHDRAWN (or a tombstone of the served version) retires the
 * adapter (RETIRED). Versions have keys of their own ({@link AdapterKeys}), so a node that starts
 * after a compaction replays every verified version in order and ends on the newest good one.
 */
public final class AdapterWatcher implements TopicTail.RecordHandler {

  private static final Logger LOG = LoggerFactory.getLogger(AdapterWatcher.class);

  /** The last refusal per adapter, for the admin listing. */
  public record Rejection(int version, String reason, Instant at) {}

  private final AdapterRegistry registry;
  private final AdapterVerifier verifier;
  private final LanguageModel model;
  private final EventPublisher publisher;
  private final NodeMetrics metrics;
  private final String nodeId;
  private final Map<String, Rejection> rejections = new ConcurrentHashMap<>();

  public AdapterWatcher(AdapterRegistry registry, AdapterVerifier verifier, LanguageModel model, EventPublisher publisher,
      NodeMetrics metrics, String nodeId) {
    this.registry = registry;
    this.verifier = verifier;
    this.model = model;
    this.publisher = publisher;
    this.metrics = metrics;
    this.nodeId = nodeId;
  }

  public Map<String, Rejection> rejections() {
    return Map.copyOf(rejections);
  }

  @Override
  public void handle(ConsumerRecord<byte[], byte[]> record) {
    long received = System.nanoTime();
    String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
    if (record.value() == null) {
      if (key != null) {
        tombstone(key, record.topic());
      }
      return;
    }
    AdapterPublished event;
    try {
      event = MarginalSerdes.ADAPTER_PUBLISHED.deserialize(Topics.ADAPTERS, record.value());
    } catch (RuntimeException e) {
      throw new TopicTail.UnreadableRecordException("adapters record " + key + " cannot be decoded: " + e.getMessage(), e);
    }
    switch (event.getStatus()) {
      case FAILED -> LOG.info("adapter {} request {} failed at the trainer ({}); nothing to load", event.getAdapterId(),
          event.getRequestId(), event.getFailureReason());
      case WITHDRAWN -> registry.withdraw(event.getAdapterId())
          .ifPresent(label -> retired(event.getAdapterId(), label, "withdrawn by " + event.getRequestId()));
      case PUBLISHED -> activate(event, received);
      default -> LOG.warn("adapter {}: unknown status {}", event.getAdapterId(), event.getStatus());
    }
  }

  /**
   * A tombstone under a version key removes that version's record: it retires the adapter only when
   * that is the version served (a cleanup of older versions changes nothing). A tombstone under a bare
   * adapter id (keys written before versions had keys of their own) retires the adapter.
   */
  private void tombstone(String key, String topic) {
    Optional<AdapterKeys.VersionKey> versioned = AdapterKeys.parseVersion(key);
    if (versioned.isEmpty()) {
      registry.withdraw(key).ifPresent(label -> retired(key, label, "tombstone on " + topic));
      return;
    }
    String id = versioned.get().adapterId();
    boolean served = registry.served(id).map(v -> v.version() == versioned.get().version()).orElse(false);
    if (served) {
      registry.withdraw(id).ifPresent(label -> retired(id, label, "tombstone of " + key + " on " + topic));
    }
  }

  private void activate(AdapterPublished event, long receivedNanos) {
    String id = event.getAdapterId();
    Optional<PublishedVersion> served = registry.served(id);
    if (served.isPresent() && served.get().version() == event.getVersion() && served.get().sha256().equals(event.getSha256())) {
      return; // already serving exactly this version (replay after a reload)
    }
    if (served.isPresent() && event.getVersion() < served.get().version()) {
      LOG.info("adapter {} v{} is older than the served v{}; ignored", id, event.getVersion(), served.get().version());
      return;
    }
    String keeping = served.map(v -> "keeping version " + v.version()).orElse("this node serves no version of it");
    try {
      AdapterVerifier.LoadedVersion verified = verifier.verifyAndLoad(event, model, keeping);
      PublishedVersion version = verified.version();
      LoraAdapter loaded = verified.adapter();
      ServedAdapter adapter = new ServedAdapter(id, version.scope(), version.version(), version.sha256(), loaded, Instant.now());
      if (version.scope().shared()) {
        registry.activateShared(adapter);
      } else {
        registry.activateUser(version.scope().name(), version, adapter);
      }
      long latencyMs = (System.nanoTime() - receivedNanos) / 1_000_000;
      rejections.remove(id);
      metrics.adapterActivated(id, version.scope().toString(), version.version(), latencyMs);
      LOG.info("adapter {} now serving {} ({}), swapped in {} ms after the event arrived", version.label(),
          version.scope(), served.map(v -> "replacing v" + v.version()).orElse("new"), latencyMs);
      acknowledge(id, version.version(), version.sha256(), ActivationState.ACTIVE, null, latencyMs);
    } catch (AdapterRejectedException e) {
      rejections.put(id, new Rejection(event.getVersion(), e.getMessage(), Instant.now()));
      metrics.adapterRejected(id, event.getScope());
      LOG.warn("{}", e.getMessage());
      acknowledge(id, event.getVersion(), event.getSha256(), ActivationState.REJECTED, e.getMessage(), 0);
    }
  }

  private void retired(String adapterId, String label, String why) {
    metrics.adapterRetired(adapterId);
    LOG.info("adapter {} retired ({})", label, why);
    // Requests that hold it finish on it; its tensors are freed after the last one.
    int version = Integer.parseInt(label.substring(label.indexOf('@') + 1, label.indexOf(':')));
    acknowledge(adapterId, version, null, ActivationState.RETIRED, why, 0);
  }

  private void acknowledge(String adapterId, int version, String sha256, ActivationState state, String reason, long latencyMs) {
    AdapterActivation ack = AdapterActivation.newBuilder()
        .setNodeId(nodeId).setAdapterId(adapterId).setVersion(version).setSha256(sha256)
        .setState(state).setReason(reason).setSwapLatencyMs(latencyMs).setTimestamp(Instant.now()).build();
    try {
      publisher.activation(ack).get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.error("adapter {} v{}: {} acknowledgement not written to {}: {}", adapterId, version, state,
          Topics.ADAPTER_ACTIVATIONS, e.toString());
    }
  }
}
