package io.marginal.schemas.topics;

import io.marginal.config.Settings;
import java.time.Duration;
import java.util.Map;

/**
 * Deployment-level knobs for topic creation. Defaults run the embedded single-broker demo; a
 * production cluster sets more partitions and replication factor 3.
 *
 * @param prefix           prepended to every topic name (several deployments on one cluster)
 * @param partitions       partitions of every user-keyed topic
 * @param replicationFactor replicas per partition
 * @param segmentAge       roll segments at least this often on topics holding user data
 * @param compactionLag    compact a tombstoned key within this long (compacted topics)
 * @param inputRetention   how long raw interactions/feedback/deletions stay in their logs
 */
public record TopicSettings(String prefix, int partitions, short replicationFactor, Duration segmentAge,
                            Duration compactionLag, Duration inputRetention) {

  public static TopicSettings defaults() {
    return new TopicSettings("marginal.", 3, (short) 1, Duration.ofHours(1), Duration.ofHours(1), Duration.ofDays(1));
  }

  /** Reads {@code MARGINAL_TOPIC_*} keys from a flat map (environment or properties), falling back to defaults. */
  public static TopicSettings from(Map<String, String> env) {
    return from(Settings.of(env));
  }

  /** Reads the {@code MARGINAL_TOPIC_*} keys, falling back to defaults. */
  public static TopicSettings from(Settings env) {
    TopicSettings d = defaults();
    int replicationFactor = env.getInt("MARGINAL_TOPIC_REPLICATION_FACTOR", d.replicationFactor());
    if (replicationFactor < 1 || replicationFactor > Short.MAX_VALUE) {
      throw new IllegalArgumentException("MARGINAL_TOPIC_REPLICATION_FACTOR must be >= 1, got " + replicationFactor);
    }
    return new TopicSettings(
        env.getString("MARGINAL_TOPIC_PREFIX", d.prefix()),
        env.getInt("MARGINAL_TOPIC_PARTITIONS", d.partitions()),
        (short) replicationFactor,
        env.getDuration("MARGINAL_TOPIC_SEGMENT_AGE", d.segmentAge()),
        env.getDuration("MARGINAL_TOPIC_COMPACTION_LAG", d.compactionLag()),
        env.getDuration("MARGINAL_TOPIC_INPUT_RETENTION", d.inputRetention()));
  }
}
