package io.marginal.schemas.topics;

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
    TopicSettings d = defaults();
    return new TopicSettings(
        env.getOrDefault("MARGINAL_TOPIC_PREFIX", d.prefix()),
        Integer.parseInt(env.getOrDefault("MARGINAL_TOPIC_PARTITIONS", String.valueOf(d.partitions()))),
        Short.parseShort(env.getOrDefault("MARGINAL_TOPIC_REPLICATION_FACTOR", String.valueOf(d.replicationFactor()))),
        Duration.parse(env.getOrDefault("MARGINAL_TOPIC_SEGMENT_AGE", d.segmentAge().toString())),
        Duration.parse(env.getOrDefault("MARGINAL_TOPIC_COMPACTION_LAG", d.compactionLag().toString())),
        Duration.parse(env.getOrDefault("MARGINAL_TOPIC_INPUT_RETENTION", d.inputRetention().toString())));
  }
}
