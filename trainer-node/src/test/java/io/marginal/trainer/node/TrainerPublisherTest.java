package io.marginal.trainer.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.schemas.AdapterPublished;
import io.marginal.schemas.AdapterStatus;
import io.marginal.schemas.UnlearningRequest;
import io.marginal.schemas.topics.Topics;
import io.marginal.trainer.store.StoredAdapter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerPublisherTest {

  @TempDir
  Path tmp;

  @Test
  void aVersionWhoseManifestCannotBeReadIsAnnouncedFailedNotPublishedWithLessLineage() throws Exception {
    Files.writeString(tmp.resolve("adapter_manifest.json"), "{not json");
    UnlearningRequest request = RequestValidatorTest.request().setSourceDeletionId("d-7").build();
    MockProducer<String, byte[]> producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
    TrainerPublisher publisher = new TrainerPublisher(producer, Topics.defaults(),
        Clock.fixed(Instant.parse("2025-01-01T10:15:00Z"), ZoneOffset.UTC));

    AdapterPublished event = publisher.published(request,
        new StoredAdapter("user-alice", 1, tmp.toUri(), "00", 1, request.getRequestId()), Map.of());

    assertEquals(AdapterStatus.FAILED, event.getStatus());
    assertTrue(event.getFailureReason().contains("adapter_manifest.json"), event.getFailureReason());
  }
}
