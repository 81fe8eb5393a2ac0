package io.marginal.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.marginal.schemas.fault.PoisonRecords;
import io.marginal.schemas.fault.PoisonRecords.Poison;
import io.marginal.schemas.fault.SampleRecords;
import io.marginal.schemas.serde.AvroSerde;
import io.marginal.schemas.serde.MarginalSerdes;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every topic value type against the poison corpus: each malformed value is either refused with a
 * {@link SerializationException} (which every reader dead-letters) or decodes to a record — never an
 * {@link Error} such as the OutOfMemoryError a 24-byte record declaring 2^31 items used to cause.
 */
class PoisonRecordDecodingTest {

  static {
    // Load Avro's limits before our serde, as building a record with defaults does in a service.
    org.apache.avro.SystemLimitException.checkMaxStringLength(1);
  }

  static List<AvroSerde<? extends SpecificRecord>> serdes() {
    return List.of(MarginalSerdes.INTERACTION, MarginalSerdes.FEEDBACK, MarginalSerdes.DELETION_REQUEST,
        MarginalSerdes.MEMORY_BANK, MarginalSerdes.UNLEARNING_REQUEST, MarginalSerdes.ADAPTER_PUBLISHED,
        MarginalSerdes.ADAPTER_ACTIVATION, MarginalSerdes.DELETION_RECEIPT, MarginalSerdes.DEAD_LETTER);
  }

  @ParameterizedTest
  @MethodSource("serdes")
  <T extends SpecificRecord> void everyPoisonIsRefusedWithASerializationExceptionNeverAnError(AvroSerde<T> serde) {
    byte[] valid = serde.serialize("t", SampleRecords.of(serde.type()));
    assertNotNull(serde.deserialize("t", valid), "the sample itself decodes");
    AvroSerde<?> other = serde == MarginalSerdes.FEEDBACK ? MarginalSerdes.DELETION_REQUEST : MarginalSerdes.FEEDBACK;
    byte[] otherType = encodeSample(other);

    List<Poison> corpus = PoisonRecords.corpus(valid, otherType, 42);
    int refused = 0;
    int refusedByLengthCap = 0;
    for (Poison poison : corpus) {
      try {
        serde.deserialize("t", poison.bytes());
      } catch (SerializationException e) {
        refused++;
        if (String.valueOf(e.getMessage()).contains("SystemLimitException")) {
          refusedByLengthCap++;
        }
      } catch (Throwable e) {
        fail(serde.type().getSimpleName() + " poison " + poison + " escaped as " + e);
      }
    }
    // The fixed kinds (garbage, empty, header-only, truncated, wrong-schema, unknown-fingerprint, near-1MiB) are all refused.
    assertTrue(refused >= 7, serde.type().getSimpleName() + ": refused only " + refused + " of " + corpus.size());
    assertTrue(refusedByLengthCap >= 1, serde.type().getSimpleName() + ": no huge declared length reached the cap");
  }

  @ParameterizedTest
  @MethodSource("serdes")
  <T extends SpecificRecord> void aHugeDeclaredArrayIsRefusedByTheLengthCap(AvroSerde<T> serde) {
    // The first body byte of every type is the length of its first string field.
    byte[] valid = serde.serialize("t", SampleRecords.of(serde.type()));
    Poison first = PoisonRecords.hugeDeclaredLengths(valid).get(0);
    SerializationException e = org.junit.jupiter.api.Assertions.assertThrows(SerializationException.class,
        () -> serde.deserialize("t", first.bytes()));
    assertTrue(e.getMessage().contains("SystemLimitException"), e.getMessage());
    assertEquals(valid.length + 4, first.bytes().length, "the 5-byte varint replaced one byte");
  }

  private static <U extends SpecificRecord> byte[] encodeSample(AvroSerde<U> serde) {
    return serde.serialize("t", SampleRecords.of(serde.type()));
  }
}
