package io.marginal.schemas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.serde.SchemaHistory;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class AvroSerdeTest {

  @Test
  void roundTripsEveryFieldWithTheSchemaFingerprintInFront() {
    Interaction interaction = Interaction.newBuilder()
        .setInteractionId("i-1").setUserId("alice").setTimestamp(java.time.Instant.ofEpochMilli(42))
        .setModel("demo").setPrompt("recommend a film").setResponse("Inception")
        .setCandidates(List.of(new Candidate("Inception", 0.7), new Candidate("Arrival", 0.3)))
        .setInstanceEmbedding(List.of(0.6f, 0.8f))
        .setAdapterVersions(List.of("concept-inception@2:ab12"))
        .build();
    byte[] bytes = MarginalSerdes.INTERACTION.serialize("t", interaction);

    assertEquals((byte) 0xC3, bytes[0]);
    assertEquals((byte) 0x01, bytes[1]);
    long fingerprint = SchemaNormalization.parsingFingerprint64(Interaction.getClassSchema());
    assertEquals(fingerprint, ByteBuffer.wrap(bytes, 2, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong());
    assertEquals(interaction, MarginalSerdes.INTERACTION.deserialize("t", bytes));
  }

  @Test
  void tombstonesStayNull() {
    assertNull(MarginalSerdes.MEMORY_BANK.serialize("t", null));
    assertNull(MarginalSerdes.MEMORY_BANK.deserialize("t", null));
  }

  @Test
  void readsFeedbackWrittenWithTheV1SchemaAndFillsNewFieldsWithDefaults() throws Exception {
    Schema v1 = SchemaHistory.schema("feedback-v1.avsc");
    GenericRecord old = new GenericData.Record(v1);
    old.put("feedbackId", "fb-1");
    old.put("userId", "bob");
    old.put("interactionId", "i-9");
    old.put("timestamp", 1_700_000_000_000L);
    old.put("kind", new GenericData.EnumSymbol(v1.getField("kind").schema(), "RATING"));
    old.put("preferredResponse", null);
    old.put("rating", 4);
    byte[] bytes = singleObject(v1, old);

    Feedback read = MarginalSerdes.FEEDBACK.deserialize("feedback", bytes);

    assertEquals("fb-1", read.getFeedbackId());
    assertEquals(FeedbackKind.RATING, read.getKind());
    assertEquals(4, read.getRating());
    assertNull(read.getComment(), "a field added in v2 takes its default");
    assertEquals(1_700_000_000_000L, read.getTimestamp().toEpochMilli());
  }

  @Test
  void readsAnUnlearningRequestWrittenBeforeItCarriedTheDeletionsScopeAndHiddenAt() throws Exception {
    Schema v1 = SchemaHistory.schema("unlearning-request-v1.avsc");
    GenericRecord old = new GenericData.Record(v1);
    old.put("requestId", "unlearn-d-1");
    old.put("scope", "user:bob");
    old.put("userId", "bob");
    old.put("timestamp", 1_700_000_000_000L);
    old.put("baseModel", "marginal-demo");
    old.put("concept", "arrival");
    old.put("forgetExamples", List.of());
    old.put("retainExamples", List.of());
    old.put("objective", null);
    old.put("lineage", List.of());
    old.put("sourceDeletionId", "d-1");
    byte[] bytes = singleObject(v1, old);

    UnlearningRequest read = MarginalSerdes.UNLEARNING_REQUEST.deserialize("unlearning-requests", bytes);

    assertEquals("d-1", read.getSourceDeletionId());
    assertNull(read.getDeletionScope(), "a field added in v2 takes its default");
    assertNull(read.getHiddenAt());
  }

  @Test
  void refusesBytesThatAreNotOurRecordWithAReadableReason() {
    byte[] garbage = "{\"not\": \"avro\"}".getBytes();
    SerializationException e = assertThrows(SerializationException.class,
        () -> MarginalSerdes.FEEDBACK.deserialize("feedback.v1", garbage));
    assertTrue(e.getMessage().contains("not a readable Feedback record on topic feedback.v1"), e.getMessage());
  }

  @Test
  void refusesARecordOfAnotherTypeWhoseSchemaItDoesNotKnow() {
    byte[] bank = MarginalSerdes.DELETION_REQUEST.serialize("t", DeletionRequest.newBuilder()
        .setDeletionId("d").setUserId("u").setTimestamp(java.time.Instant.EPOCH).setScope(DeletionScope.ALL_USER_DATA).build());
    SerializationException e = assertThrows(SerializationException.class, () -> MarginalSerdes.FEEDBACK.deserialize("t", bank));
    assertTrue(e.getMessage().contains("MissingSchemaException"), e.getMessage());
  }

  @Test
  void deadLetterKeepsTheOriginalBytes() {
    DeadLetter letter = DeadLetter.newBuilder().setSourceTopic("s").setPartition(1).setOffset(7).setApplication("a")
        .setReason("r").setValue(ByteBuffer.wrap(new byte[] {1, 2, 3})).setTimestamp(java.time.Instant.EPOCH).build();
    DeadLetter back = MarginalSerdes.DEAD_LETTER.deserialize("t", MarginalSerdes.DEAD_LETTER.serialize("t", letter));
    byte[] value = new byte[back.getValue().remaining()];
    back.getValue().get(value);
    assertArrayEquals(new byte[] {1, 2, 3}, value);
  }

  @Test
  void readsADeadLetterWrittenBeforeSizesWereRecorded() throws Exception {
    Schema v1 = SchemaHistory.schema("dead-letter-v1.avsc");
    GenericRecord old = new GenericData.Record(v1);
    old.put("sourceTopic", "marginal.feedback.v1");
    old.put("partition", 0);
    old.put("offset", 12L);
    old.put("application", "streams");
    old.put("reason", "bad");
    old.put("value", ByteBuffer.wrap(new byte[] {9}));
    old.put("timestamp", 1_700_000_000_000L);
    byte[] bytes = singleObject(v1, old);

    DeadLetter read = MarginalSerdes.DEAD_LETTER.deserialize("dlq", bytes);

    assertEquals(12L, read.getOffset());
    assertEquals(-1L, read.getValueSize(), "unknown size in a v1 letter");
    assertNull(read.getValueSha256());
    assertEquals(false, read.getValueTruncated());
  }

  @Test
  void aValueTooLargeForADeadLetterKeepsItsPrefixSizeAndHash() {
    byte[] value = new byte[(1 << 20) - 100];
    java.util.Arrays.fill(value, (byte) 7);
    DeadLetter letter = io.marginal.schemas.deadletter.DeadLetters.letter("s", 0, 1, "a", "too big", null,
        "k".getBytes(), value, java.time.Instant.EPOCH);

    byte[] encoded = MarginalSerdes.DEAD_LETTER.serialize("dlq", letter);

    assertTrue(encoded.length < 100_000, "the letter fits easily: " + encoded.length);
    assertTrue(letter.getValueTruncated());
    assertEquals(value.length, letter.getValueSize());
    assertEquals(64, letter.getValueSha256().length());
  }

  /** A record as an older producer wrote it: single-object encoding with that producer's schema. */
  private static byte[] singleObject(Schema writer, GenericRecord record) throws java.io.IOException {
    ByteBuffer encoded = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), writer).encode(record);
    byte[] bytes = new byte[encoded.remaining()];
    encoded.get(bytes);
    return bytes;
  }
}
