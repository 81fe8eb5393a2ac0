package io.marginal.trainer.node;

import io.marginal.model.adapters.AdapterFormatException;
import io.marginal.model.adapters.AdapterManifest;
import io.marginal.schemas.AdapterPublished;
import io.marginal.schemas.AdapterStatus;
import io.marginal.schemas.DeletionReceipt;
import io.marginal.schemas.ReceiptStatus;
import io.marginal.schemas.UnlearningRequest;
import io.marginal.schemas.receipts.DeletionReceipts;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.AdapterKeys;
import io.marginal.schemas.topics.Topics;
import io.marginal.trainer.store.StoredAdapter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Announces what the trainer did: a published adapter version, a refused or failed request, and
 * — when the request came from a deletion — the deletion receipt saying which adapter covers it.
 * Every send waits for the broker's acknowledgement: the request's offset is committed only after.
 */
final class TrainerPublisher {

  private final Producer<String, byte[]> producer;
  private final Topics topics;
  private final Clock clock;

  TrainerPublisher(Producer<String, byte[]> producer, Topics topics, Clock clock) {
    this.producer = producer;
    this.topics = topics;
    this.clock = clock;
  }

  AdapterPublished published(UnlearningRequest request, StoredAdapter adapter, Map<String, Double> metrics) {
    List<String> lineage;
    try {
      lineage = coveredLineage(adapter, request);
    } catch (AdapterFormatException e) {
      // Publishing it with the request's lineage only would under-report what it covers; no node would load it anyway.
      return failed(request, adapter.adapterId(), adapter.label() + " was stored but cannot be published: " + e.getMessage(), metrics);
    }
    AdapterPublished event = base(request, adapter.adapterId(), adapter.version(), AdapterStatus.PUBLISHED)
        .setUri(adapter.uri().toString())
        .setSha256(adapter.sha256())
        .setSizeBytes(adapter.sizeBytes())
        .setMetrics(metrics)
        .setLineage(lineage)
        .build();
    send(topics.name(Topics.ADAPTERS), AdapterKeys.version(adapter.adapterId(), adapter.version()), MarginalSerdes.ADAPTER_PUBLISHED.serialize(Topics.ADAPTERS, event));
    if (request.getSourceDeletionId() != null && request.getUserId() != null) {
      receipt(request, ReceiptStatus.UNLEARNED, adapter.label(), "adapter " + adapter.label() + " trained; it covers the deleted data once nodes acknowledge it on "
          + topics.name(Topics.ADAPTER_ACTIVATIONS));
    }
    return event;
  }

  /**
   * A request that was refused (invalid) or whose adapter failed the gate. Keyed apart from the
   * adapter id, so that compaction of the adapters topic never replaces the version being served.
   */
  AdapterPublished failed(UnlearningRequest request, String adapterId, String reason, Map<String, Double> metrics) {
    AdapterPublished event = base(request, adapterId, 0, AdapterStatus.FAILED)
        .setFailureReason(reason)
        .setMetrics(metrics)
        .build();
    send(topics.name(Topics.ADAPTERS), AdapterKeys.failed(adapterId, request.getRequestId()),
        MarginalSerdes.ADAPTER_PUBLISHED.serialize(Topics.ADAPTERS, event));
    if (request.getSourceDeletionId() != null && request.getUserId() != null) {
      receipt(request, ReceiptStatus.REJECTED, null, "unlearning request " + request.getRequestId() + " failed: " + reason);
    }
    return event;
  }

  /**
   * Everything the version was trained from, from its manifest: a continuing version covers the
   * events of every earlier request too, and deletions look them up in this event's lineage. A version
   * without a manifest (a job that writes only the PEFT files) covers what its request names; a manifest
   * that cannot be read is an AdapterFormatException: the version is announced FAILED, not published with less.
   */
  static List<String> coveredLineage(StoredAdapter adapter, UnlearningRequest request) {
    return AdapterManifest.find(Path.of(adapter.uri())).map(AdapterManifest::lineage).orElse(request.getLineage());
  }

  private AdapterPublished.Builder base(UnlearningRequest request, String adapterId, int version, AdapterStatus status) {
    return AdapterPublished.newBuilder()
        .setAdapterId(adapterId)
        .setScope(request.getScope() == null ? "" : request.getScope())
        .setVersion(version)
        .setStatus(status)
        .setBaseModel(request.getBaseModel() == null ? "" : request.getBaseModel())
        .setRequestId(request.getRequestId())
        .setLineage(request.getLineage())
        .setTimestamp(clock.instant());
  }

  private void receipt(UnlearningRequest request, ReceiptStatus status, String coveringAdapter, String detail) {
    DeletionReceipt receipt = DeletionReceipts.unlearningEnded(request, status, coveringAdapter, detail,
        topics.userDataErasureBoundMs(), clock.instant());
    send(topics.name(Topics.DELETION_RECEIPTS), request.getUserId(), MarginalSerdes.DELETION_RECEIPT.serialize(Topics.DELETION_RECEIPTS, receipt));
  }

  private void send(String topic, String key, byte[] value) {
    try {
      producer.send(new ProducerRecord<>(topic, key, value)).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while publishing to " + topic, e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot publish to " + topic + ": " + e.getCause().getMessage(), e.getCause());
    }
  }
}
