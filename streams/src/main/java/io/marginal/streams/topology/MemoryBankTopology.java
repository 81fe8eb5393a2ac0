package io.marginal.streams.topology;

import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.Topics;
import io.marginal.streams.app.StreamsAppConfig;
import io.marginal.streams.store.BankSummary;
import io.marginal.streams.store.ErasableStores;
import io.marginal.streams.store.StoredEntry;
import io.marginal.streams.store.WaitingFeedback;
import io.marginal.streams.topology.Emitted.DeadLettered;
import io.marginal.streams.topology.Emitted.EntryChanged;
import io.marginal.streams.topology.Emitted.ReceiptIssued;
import io.marginal.streams.topology.Emitted.UnlearningRequested;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The memory-bank topology, declared in one place.
 *
 * <pre>
 *   interactions ─┐
 *   feedback ─────┼─ merge ─▶ memory-bank-processor ─┬─▶ memory-banks.v2      (one entry upsert/tombstone)
 *   deletions ────┘   │  stores: memory-bank-entries, ├─▶ deletion-receipts
 *                     │  memory-bank-summaries,       ├─▶ unlearning-requests  (key user:&lt;id&gt;)
 *                     │  memory-bank-order,           └─▶ dead-letters         (unmatched/late/invalid)
 *                     │  user-interactions, interaction-expiry, pending-feedback,
 *                     │  recent-deletions,
 *                     │  late-deletion-matches (RocksDB)
 *   adapters ──▶ GlobalKTable adapter-lineage (read by the processor for deletion lineage)
 * </pre>
 *
 * All three inputs are keyed by user id and co-partitioned, so the join needs no repartition and a
 * user's whole state lives in one task. Every output goes through a sink, inside the EOS transaction.
 */
public final class MemoryBankTopology {

  /** userId\0entryId → (arrival seq, BankEntry): one key per entry, so an event costs O(1). Queryable with the summaries. */
  public static final String BANKS_STORE = "memory-bank-entries";
  /** userId → BankSummary (count, revision, eviction ring bounds). */
  public static final String BANK_SUMMARIES_STORE = "memory-bank-summaries";
  /** userId\0seq → entryId: arrival order, for O(1) eviction of the oldest entry. */
  public static final String BANK_ORDER_STORE = "memory-bank-order";
  /** userId\0interactionId → the Interaction's bytes as they arrived, kept for the interaction retention. */
  public static final String INTERACTIONS_STORE = "user-interactions";
  /** zero-padded timestamp\0userId\0interactionId → interaction key: what to expire, oldest first. */
  public static final String INTERACTION_EXPIRY_STORE = "interaction-expiry";
  /** userId\0interactionId → the feedback waiting for that interaction (each with its buffered-at stream time). */
  public static final String PENDING_FEEDBACK_STORE = "pending-feedback";
  /** userId\0deletionId → DeletionRequest (timestamp = its record time), kept for the feedback window: see {@link LateArrivals}. */
  public static final String RECENT_DELETIONS_STORE = "recent-deletions";
  /** userId\0deletionId\0interactionId → Interaction that arrived after a concept deletion covering it, until sent for unlearning. */
  public static final String LATE_MATCHES_STORE = "late-deletion-matches";
  /** The stores that hold user text: after a deletion their RocksDB files are compacted over the user's keys. */
  static final java.util.List<String> USER_TEXT_STORES =
      java.util.List.of(BANKS_STORE, INTERACTIONS_STORE, PENDING_FEEDBACK_STORE, RECENT_DELETIONS_STORE, LATE_MATCHES_STORE);
  /** adapterId → encoded AdapterPublished (global; decoded per entry by the processor, unreadable ones skipped). */
  public static final String ADAPTERS_STORE = "adapter-lineage";

  private static final Serde<String> KEYS = Serdes.String();

  private MemoryBankTopology() {
  }

  public static void build(StreamsBuilder builder, Topics topics, StreamsAppConfig config) {
    Map<String, String> changelog = userDataChangelogConfig(topics);
    builder.addStateStore(Stores.keyValueStoreBuilder(ErasableStores.persistentKeyValueStore(BANKS_STORE), KEYS, StoredEntry.SERDE)
        .withLoggingEnabled(changelog).withCachingDisabled());
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(BANK_SUMMARIES_STORE), KEYS, BankSummary.SERDE)
        .withLoggingEnabled(changelog).withCachingDisabled());
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(BANK_ORDER_STORE), KEYS, KEYS)
        .withLoggingEnabled(changelog).withCachingDisabled());
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(INTERACTION_EXPIRY_STORE), KEYS, KEYS)
        .withLoggingEnabled(changelog).withCachingDisabled());
    builder.addStateStore(Stores.keyValueStoreBuilder(ErasableStores.persistentKeyValueStore(INTERACTIONS_STORE), KEYS, Serdes.ByteArray())
        .withLoggingEnabled(changelog).withCachingDisabled());
    builder.addStateStore(Stores.keyValueStoreBuilder(ErasableStores.persistentKeyValueStore(PENDING_FEEDBACK_STORE),
            KEYS, WaitingFeedback.LIST_SERDE)
        .withLoggingEnabled(changelog).withCachingDisabled());
    builder.addStateStore(Stores.timestampedKeyValueStoreBuilder(ErasableStores.persistentTimestampedKeyValueStore(RECENT_DELETIONS_STORE),
            KEYS, MarginalSerdes.DELETION_REQUEST)
        .withLoggingEnabled(changelog).withCachingDisabled());
    builder.addStateStore(Stores.keyValueStoreBuilder(ErasableStores.persistentKeyValueStore(LATE_MATCHES_STORE), KEYS, MarginalSerdes.INTERACTION)
        .withLoggingEnabled(changelog).withCachingDisabled());
    // Raw bytes, decoded per entry when read: a global store restores by copying the topic's bytes past
    // the dead-letter handler, and Kafka Streams always uses Consumed's serde for the store, so one bad
    // record would otherwise fail every read (and kill the global thread when its key is overwritten).
    builder.globalTable(topics.name(Topics.ADAPTERS), Consumed.with(KEYS, Serdes.ByteArray()),
        Materialized.<String, byte[], KeyValueStore<Bytes, byte[]>>as(ADAPTERS_STORE));

    KStream<String, InputEvent> interactions = builder
        .stream(topics.name(Topics.INTERACTIONS), Consumed.with(KEYS, Received.serde(MarginalSerdes.INTERACTION)))
        .mapValues(r -> (InputEvent) (r == null ? new InputEvent.Interacted(null, null) : new InputEvent.Interacted(r.value(), r.raw())),
            Named.as("as-interaction-event"));
    KStream<String, InputEvent> feedback = builder
        .stream(topics.name(Topics.FEEDBACK), Consumed.with(KEYS, MarginalSerdes.FEEDBACK))
        .mapValues(InputEvent.FeedbackGiven::new, Named.as("as-feedback-event"));
    KStream<String, InputEvent> deletions = builder
        .stream(topics.name(Topics.DELETIONS), Consumed.with(KEYS, MarginalSerdes.DELETION_REQUEST))
        .mapValues(InputEvent.DeletionRequested::new, Named.as("as-deletion-event"));

    KStream<String, Emitted> emitted = interactions.merge(feedback).merge(deletions)
        .process(() -> new MemoryBankProcessor(topics, config.bank()), Named.as("memory-bank-processor"),
            BANKS_STORE, BANK_SUMMARIES_STORE, BANK_ORDER_STORE, INTERACTIONS_STORE, INTERACTION_EXPIRY_STORE, PENDING_FEEDBACK_STORE, RECENT_DELETIONS_STORE, LATE_MATCHES_STORE);

    emitted.split(Named.as("emit-"))
        .branch((key, e) -> e instanceof EntryChanged, Branched.withConsumer(s -> s
            .mapValues(e -> ((EntryChanged) e).encodedChange(), Named.as("bank-entry-value"))
            .to(topics.name(Topics.MEMORY_BANKS), Produced.with(KEYS, Serdes.ByteArray())), "banks"))
        .branch((user, e) -> e instanceof ReceiptIssued, Branched.withConsumer(s -> s
            .mapValues(e -> ((ReceiptIssued) e).receipt(), Named.as("receipt-value"))
            .to(topics.name(Topics.DELETION_RECEIPTS), Produced.with(KEYS, MarginalSerdes.DELETION_RECEIPT)), "receipts"))
        .branch((user, e) -> e instanceof UnlearningRequested, Branched.withConsumer(s -> s
            .mapValues(e -> ((UnlearningRequested) e).request(), Named.as("unlearning-value"))
            .to(topics.name(Topics.UNLEARNING_REQUESTS), Produced.with(KEYS, MarginalSerdes.UNLEARNING_REQUEST)), "unlearning"))
        .branch((user, e) -> e instanceof DeadLettered, Branched.withConsumer(s -> s
            .mapValues(e -> ((DeadLettered) e).letter(), Named.as("dead-letter-value"))
            .to(topics.name(Topics.DEAD_LETTERS), Produced.with(KEYS, MarginalSerdes.DEAD_LETTER)), "dead-letters"));
  }

  /**
   * Changelogs of stores holding user data get the memory-banks topic's segment age and compaction
   * lag (DESIGN §5), so a deleted value leaves the changelog within the same bound the receipt states.
   */
  static Map<String, String> userDataChangelogConfig(Topics topics) {
    Map<String, String> configs = new HashMap<>(topics.spec(Topics.MEMORY_BANKS).configs());
    configs.remove(TopicConfig.CLEANUP_POLICY_CONFIG); // Kafka Streams sets compaction for KV changelogs itself
    return configs;
  }
}
