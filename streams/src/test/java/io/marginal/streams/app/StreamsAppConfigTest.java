package io.marginal.streams.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

class StreamsAppConfigTest {

  @Test
  void defaultsRunExactlyOnceAndSecretsAreMaskedWhenPrinted() {
    StreamsAppConfig config = StreamsAppConfig.from(Map.of(
        "MARGINAL_KAFKA_SASL_JAAS_CONFIG", "org.apache.kafka.common.security.plain.PlainLoginModule password=\"hunter2\";",
        "MARGINAL_STREAMS_FEEDBACK_WINDOW", "PT2M"));
    assertEquals(StreamsConfig.EXACTLY_ONCE_V2, config.toStreamsProperties().get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG));
    assertEquals(Duration.ofMinutes(2), config.bank().feedbackWindow());
    assertTrue(config.toStreamsProperties().containsKey("sasl.jaas.config"));
    assertFalse(config.describe().contains("hunter2"), config.describe());
    assertTrue(config.describe().contains("sasl.jaas.config = ****"));
  }

  @Test
  void badValuesSayWhatIsWrong() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> StreamsAppConfig.from(Map.of("MARGINAL_STREAMS_FEEDBACK_WINDOW", "5 minutes")));
    assertTrue(e.getMessage().contains("ISO-8601"), e.getMessage());
  }
}
