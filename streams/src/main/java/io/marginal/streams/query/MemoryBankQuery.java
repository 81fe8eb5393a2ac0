package io.marginal.streams.query;

import io.marginal.schemas.MemoryBank;
import io.marginal.streams.store.MemoryBankStore;
import io.marginal.streams.topology.MemoryBankTopology;
import java.util.Optional;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Interactive query for one user's bank (assembled from its per-entry store and summary): answers from the local RocksDB stores when this instance
 * holds the user's partition, otherwise says which instance does (its application.server).
 */
public final class MemoryBankQuery {

  /** Where a user's bank is. */
  public sealed interface Answer {
    /** This instance holds the partition; the bank is absent if the user has none. */
    record Local(Optional<MemoryBank> bank) implements Answer {
    }

    /** Another instance holds it: ask {@code host}. */
    record Remote(HostInfo host) implements Answer {
    }

    /** No instance holds it right now (rebalancing or not started): retry shortly. */
    record Unavailable(String reason) implements Answer {
    }
  }

  private final KafkaStreams streams;
  private final HostInfo self;

  /**
   * {@code self} is this instance's application.server; with HostInfo.unavailable() (not configured) the
   * query answers from the local store only, which is complete only when this is the sole instance.
   */
  public MemoryBankQuery(KafkaStreams streams, HostInfo self) {
    this.streams = streams;
    this.self = self;
  }

  public Answer bankOf(String userId) {
    if (HostInfo.unavailable().equals(self)) {
      return localOnly(userId); // no application.server: a single instance, or the caller routes by other means
    }
    KeyQueryMetadata meta = streams.queryMetadataForKey(MemoryBankTopology.BANKS_STORE, userId, Serdes.String().serializer());
    if (meta == null || meta.equals(KeyQueryMetadata.NOT_AVAILABLE)) {
      return new Answer.Unavailable("no instance holds the partition of user " + userId + " (state "
          + streams.state() + "); retry after the rebalance");
    }
    if (!meta.activeHost().equals(self)) {
      return new Answer.Remote(meta.activeHost());
    }
    try {
      return new Answer.Local(MemoryBankStore.read(store(MemoryBankTopology.BANKS_STORE, meta.partition()),
          store(MemoryBankTopology.BANK_SUMMARIES_STORE, meta.partition()), userId));
    } catch (org.apache.kafka.streams.errors.InvalidStateStoreException e) {
      return new Answer.Unavailable("store " + MemoryBankTopology.BANKS_STORE + " not queryable yet for user " + userId
          + " (" + e.getMessage() + "); retry shortly");
    }
  }

  /** One of the bank's stores, of one partition (or all local ones when {@code partition} is null). */
  private <V> ReadOnlyKeyValueStore<String, V> store(String name, Integer partition) {
    StoreQueryParameters<ReadOnlyKeyValueStore<String, V>> params =
        StoreQueryParameters.fromNameAndType(name, QueryableStoreTypes.<String, V>keyValueStore());
    return streams.store(partition == null ? params : params.withPartition(partition));
  }

  private Answer localOnly(String userId) {
    try {
      return new Answer.Local(MemoryBankStore.read(store(MemoryBankTopology.BANKS_STORE, null),
          store(MemoryBankTopology.BANK_SUMMARIES_STORE, null), userId));
    } catch (org.apache.kafka.streams.errors.InvalidStateStoreException e) {
      return new Answer.Unavailable("store " + MemoryBankTopology.BANKS_STORE + " not queryable yet (" + e.getMessage()
          + "); retry shortly, or set MARGINAL_STREAMS_APPLICATION_SERVER to route between instances");
    }
  }
}
