package io.marginal.schemas.topics;

import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;

/**
 * A topic's name and settings. {@code holdsUserData} topics get bounded segment age and
 * compaction lag so that a deletion can say when the bytes are physically gone, not only when the
 * key is hidden (the active segment is never compacted or deleted until it rolls).
 */
public record TopicSpec(String name, int partitions, short replicationFactor, boolean compacted,
                        boolean holdsUserData, Map<String, String> configs) {

  public NewTopic newTopic() {
    return new NewTopic(name, partitions, replicationFactor).configs(configs);
  }

  /**
   * Upper bound, in ms after a record (or its tombstone) is written, on when its bytes are gone
   * from this topic's log: the segment must roll, then compaction (compacted topics) or retention
   * (others) must run. Empty when the topic keeps data without bound.
   */
  public Optional<Long> erasureBoundMs() {
    long segment = Long.parseLong(configs.getOrDefault(TopicConfig.SEGMENT_MS_CONFIG, "604800000"));
    String lagKey = compacted ? TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG : TopicConfig.RETENTION_MS_CONFIG;
    String lag = configs.get(lagKey);
    if (lag == null || Long.parseLong(lag) < 0 || Long.parseLong(lag) == Long.MAX_VALUE) {
      return Optional.empty();
    }
    return Optional.of(segment + Long.parseLong(lag));
  }
}
