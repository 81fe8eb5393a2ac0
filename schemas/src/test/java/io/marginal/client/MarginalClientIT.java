package io.marginal.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.marginal.kafka.embedded.EmbeddedKafkaBroker;
import io.marginal.schemas.DeletionRequest;
import io.marginal.schemas.DeletionScope;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.FeedbackKind;
import io.marginal.schemas.TestRecords;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.TopicProvisioner;
import io.marginal.schemas.topics.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class MarginalClientIT {

  private static EmbeddedKafkaBroker kafka;
  private static final Topics TOPICS = Topics.defaults();

  @BeforeAll
  static void startBroker() {
    kafka = EmbeddedKafkaBroker.startTemporary();
    List<String> created = TopicProvisioner.ensureTopics(kafka.bootstrapServers(), Map.of(), TOPICS);
    assertEquals(TOPICS.all().size(), created.size());
    assertEquals(0, TopicProvisioner.ensureTopics(kafka.bootstrapServers(), Map.of(), TOPICS).size(), "second run is a no-op");
  }

  @AfterAll
  static void stopBroker() {
    kafka.close();
  }

  @Test
  void publishesFeedbackAndDeletionsKeyedByUser() {
    String preferenceId;
    String deletionId;
    try (MarginalClient client = MarginalClient.connect(kafka.bootstrapServers())) {
      preferenceId = client.preferResponse("alice", "i-42", "Arrival").join();
      client.rate("alice", "i-43", 5).join();
      deletionId = client.forgetConcept("alice", "Inception").join();
    }

    List<ConsumerRecord<String, byte[]>> feedback = TestRecords.read(kafka.bootstrapServers(), TOPICS.name(Topics.FEEDBACK), 2, Duration.ofSeconds(30));
    List<ConsumerRecord<String, byte[]>> deletions = TestRecords.read(kafka.bootstrapServers(), TOPICS.name(Topics.DELETIONS), 1, Duration.ofSeconds(30));

    assertEquals(2, feedback.size());
    Feedback first = MarginalSerdes.FEEDBACK.deserialize("f", feedback.get(0).value());
    assertEquals("alice", feedback.get(0).key());
    assertEquals(preferenceId, first.getFeedbackId());
    assertEquals(FeedbackKind.PREFERRED_RESPONSE, first.getKind());
    assertEquals("Arrival", first.getPreferredResponse());
    assertEquals(5, MarginalSerdes.FEEDBACK.deserialize("f", feedback.get(1).value()).getRating());

    DeletionRequest deletion = MarginalSerdes.DELETION_REQUEST.deserialize("d", deletions.get(0).value());
    assertEquals(deletionId, deletion.getDeletionId());
    assertEquals(DeletionScope.CONCEPT, deletion.getScope());
    assertEquals("Inception", deletion.getConcept());
  }

  @Test
  void refusesInvalidInputBeforeAnythingIsSent() {
    try (MarginalClient client = MarginalClient.connect(kafka.bootstrapServers())) {
      IllegalArgumentException rating = assertThrows(IllegalArgumentException.class, () -> client.rate("alice", "i-1", 9));
      assertEquals("feedback of kind rating needs 'rating': an integer from 1 to 5, got 9.", rating.getMessage());
      assertThrows(IllegalArgumentException.class, () -> client.forgetInteractions("alice", List.of()));
      assertThrows(IllegalArgumentException.class, () -> client.thumbsUp(" ", "i-1"));
    }
  }
}
