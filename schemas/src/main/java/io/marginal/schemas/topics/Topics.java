package io.marginal.schemas.topics;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.TopicConfig;

/**
 * Every topic of the system, its versioned name and its settings, in one place. Keys are user ids
 * unless the topic says otherwise.
 */
public final class Topics {

  public static final String INTERACTIONS = "interactions.v1";
  public static final String FEEDBACK = "feedback.v1";
  public static final String DELETIONS = "deletions.v1";
  /**
   * Compacted; one record per bank entry, key {@code userId U+0000 entryId}, value {@code BankEntryChange}
   * or a tombstone (a tombstone keyed by the bare user id erases the user's whole bank on replicas).
   * v1 carried the whole bank per user, which made every event's cost grow with the bank.
   */
  public static final String MEMORY_BANKS = "memory-banks.v2";
  public static final String UNLEARNING_REQUESTS = "unlearning-requests.v1";
  /** Key: adapter id. */
  public static final String ADAPTERS = "adapters.v1";
  /** Key: node id. */
  public static final String ADAPTER_ACTIVATIONS = "adapter-activations.v1";
  public static final String DELETION_RECEIPTS = "deletion-receipts.v1";
  /** Key: the original record's key. */
  public static final String DEAD_LETTERS = "dead-letters.v1";

  private final TopicSettings settings;

  public Topics(TopicSettings settings) {
    this.settings = settings;
  }

  public static Topics defaults() {
    return new Topics(TopicSettings.defaults());
  }

  public TopicSettings settings() {
    return settings;
  }

  /** The full name of a topic (prefix + versioned base name). */
  public String name(String base) {
    return settings.prefix() + base;
  }

  public List<TopicSpec> all() {
    return List.of(
        userInput(INTERACTIONS),
        userInput(FEEDBACK),
        userInput(DELETIONS),
        compacted(MEMORY_BANKS, true),
        userInput(UNLEARNING_REQUESTS),
        compacted(ADAPTERS, false),
        log(ADAPTER_ACTIVATIONS, Map.of(TopicConfig.RETENTION_MS_CONFIG, String.valueOf(7L * 24 * 3600 * 1000))),
        // Receipts are the audit trail: they name ids, never user text, and are kept without bound.
        log(DELETION_RECEIPTS, Map.of(TopicConfig.RETENTION_MS_CONFIG, "-1")),
        userInput(DEAD_LETTERS));
  }

  public TopicSpec spec(String base) {
    return all().stream().filter(t -> t.name().equals(name(base))).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("unknown topic " + base));
  }

  /** Upper bound on when deleted user data is physically gone from every topic that held it. */
  public long userDataErasureBoundMs() {
    return all().stream().filter(TopicSpec::holdsUserData)
        .mapToLong(t -> t.erasureBoundMs().orElse(Long.MAX_VALUE)).max().orElse(0);
  }

  private TopicSpec userInput(String base) {
    Map<String, String> configs = new LinkedHashMap<>();
    configs.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE);
    configs.put(TopicConfig.RETENTION_MS_CONFIG, String.valueOf(settings.inputRetention().toMillis()));
    configs.put(TopicConfig.SEGMENT_MS_CONFIG, String.valueOf(settings.segmentAge().toMillis()));
    return new TopicSpec(name(base), settings.partitions(), settings.replicationFactor(), false, true, Map.copyOf(configs));
  }

  private TopicSpec compacted(String base, boolean holdsUserData) {
    Map<String, String> configs = new LinkedHashMap<>();
    configs.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
    configs.put(TopicConfig.SEGMENT_MS_CONFIG, String.valueOf(settings.segmentAge().toMillis()));
    configs.put(TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG, String.valueOf(settings.compactionLag().toMillis()));
    configs.put(TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG, "0.01");
    // Tombstones must outlive a replica's restart so it sees the deletion, but not much longer.
    configs.put(TopicConfig.DELETE_RETENTION_MS_CONFIG, String.valueOf(settings.compactionLag().toMillis()));
    return new TopicSpec(name(base), settings.partitions(), settings.replicationFactor(), true, holdsUserData, Map.copyOf(configs));
  }

  private TopicSpec log(String base, Map<String, String> extra) {
    Map<String, String> configs = new LinkedHashMap<>(extra);
    configs.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE);
    return new TopicSpec(name(base), settings.partitions(), settings.replicationFactor(), false, false, Map.copyOf(configs));
  }
}
