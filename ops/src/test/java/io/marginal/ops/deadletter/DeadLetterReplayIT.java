package io.marginal.ops.deadletter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.kafka.embedded.EmbeddedKafkaBroker;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.TestRecords;
import io.marginal.schemas.deadletter.DeadLetterPublisher;
import io.marginal.schemas.deadletter.DeadLetters;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.TopicProvisioner;
import io.marginal.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Dead letters written by a service go back to their source topic byte for byte; a truncated letter is
 * reported, not replayed; selections and a dry run write only what they say.
 */
class DeadLetterReplayIT {

  private static final Topics TOPICS = Topics.defaults();
  private static EmbeddedKafkaBroker kafka;

  @BeforeAll
  static void startBroker() {
    kafka = EmbeddedKafkaBroker.startTemporary();
    TopicProvisioner.ensureTopics(kafka.bootstrapServers(), Map.of(), TOPICS);
  }

  @AfterAll
  static void stopBroker() {
    kafka.close();
  }

  @Test
  void replaysWholeLettersOfTheSelectedSourceAndReportsTruncatedOnes() throws Exception {
    Map<String, Object> client = Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    String feedback = TOPICS.name(Topics.FEEDBACK);
    String interactions = TOPICS.name(Topics.INTERACTIONS);
    String dlq = TOPICS.name(Topics.DEAD_LETTERS);
    byte[] good = MarginalSerdes.FEEDBACK.serialize(feedback, TestRecords.feedback("alice", "i-7"));
    byte[] huge = new byte[DeadLetters.MAX_WHOLE_VALUE_BYTES + 1];
    try (DeadLetterPublisher publisher = DeadLetterPublisher.create(client, dlq, "marginal-streams")) {
      publisher.publish(feedback, 0, 41, "alice".getBytes(StandardCharsets.UTF_8), good, "a bug since fixed", new IllegalStateException("x"));
      publisher.publish(feedback, 0, 42, "bob".getBytes(StandardCharsets.UTF_8), huge, "too large", null);
      publisher.publish(interactions, 0, 9, "carol".getBytes(StandardCharsets.UTF_8), "x".getBytes(StandardCharsets.UTF_8), "other topic", null);
    }
    DeadLetterReplayer replayer = new DeadLetterReplayer(client, dlq);
    DeadLetterReplayer.Selection feedbackOnly = new DeadLetterReplayer.Selection(Optional.of(feedback), Optional.empty(), Map.of());

    DeadLetterReplayer.Report dry = replayer.replay(feedbackOnly, true, Duration.ofSeconds(30));
    assertEquals(1, dry.count(DeadLetterReplayer.Action.WOULD_REPLAY));
    assertEquals(1, dry.count(DeadLetterReplayer.Action.UNREPLAYABLE));

    DeadLetterReplayer.Report report = replayer.replay(feedbackOnly, false, Duration.ofSeconds(30));

    assertEquals(1, report.count(DeadLetterReplayer.Action.REPLAYED), report.outcomes().toString());
    DeadLetterReplayer.Outcome truncated = report.outcomes().stream()
        .filter(o -> o.action() == DeadLetterReplayer.Action.UNREPLAYABLE).findFirst().orElseThrow();
    assertEquals(feedback + "-0@42", truncated.source());
    assertTrue(truncated.detail().contains("of " + huge.length + " bytes were kept"), truncated.detail());
    assertEquals(2, report.outcomes().size(), "the interactions letter is not selected");

    // Exactly one record reached the feedback topic (the dry run wrote nothing): the original bytes, marked as a replay.
    List<ConsumerRecord<String, byte[]>> replayed = TestRecords.read(kafka.bootstrapServers(), feedback, 2, Duration.ofSeconds(8));
    assertEquals(1, replayed.size());
    assertEquals("alice", replayed.get(0).key());
    assertArrayEquals(good, replayed.get(0).value());
    Feedback decoded = MarginalSerdes.FEEDBACK.deserialize(feedback, replayed.get(0).value());
    assertEquals("i-7", decoded.getInteractionId());
    String replayOf = new String(replayed.get(0).headers().lastHeader(DeadLetters.HEADER_REPLAY_OF).value(), StandardCharsets.UTF_8);
    assertTrue(replayOf.startsWith(dlq + "-"), replayOf);

    // A later run from where this one ended sees no letter.
    DeadLetterReplayer.Report again = replayer.replay(new DeadLetterReplayer.Selection(Optional.empty(), Optional.empty(),
        DeadLetterReplayer.Selection.parseOffsets(report.resumeFrom())), false, Duration.ofSeconds(30));
    assertEquals(List.of(), again.outcomes());
  }
}
