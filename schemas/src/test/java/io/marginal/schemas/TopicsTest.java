package io.marginal.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.schemas.topics.TopicSpec;
import io.marginal.schemas.topics.TopicSettings;
import io.marginal.schemas.topics.Topics;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TopicsTest {

  @Test
  void everyTopicHoldingUserDataHasABoundOnWhenItsBytesAreGone() {
    Topics topics = Topics.defaults();
    for (TopicSpec spec : topics.all()) {
      if (spec.holdsUserData()) {
        assertTrue(spec.erasureBoundMs().isPresent(), spec.name() + " keeps user data without bound");
        assertTrue(spec.configs().containsKey("segment.ms"), spec.name() + " never rolls its active segment");
      }
    }
    // default: inputs retained 1 day + 1 h segment roll dominate the 1 h + 1 h compaction bound
    assertEquals(Duration.ofDays(1).plusHours(1).toMillis(), topics.userDataErasureBoundMs());
  }

  @Test
  void memoryBanksAndAdaptersAreCompactedAndNamesArePrefixed() {
    Topics topics = new Topics(TopicSettings.from(Map.of("MARGINAL_TOPIC_PREFIX", "prod.", "MARGINAL_TOPIC_PARTITIONS", "12")));
    TopicSpec banks = topics.spec(Topics.MEMORY_BANKS);
    assertEquals("prod.memory-banks.v2", banks.name());
    assertEquals(12, banks.partitions());
    assertEquals("compact", banks.configs().get("cleanup.policy"));
    assertEquals("compact", topics.spec(Topics.ADAPTERS).configs().get("cleanup.policy"));
    assertEquals(9, topics.all().size());
  }
}
