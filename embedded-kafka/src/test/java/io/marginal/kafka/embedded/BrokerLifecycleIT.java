package io.marginal.kafka.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BrokerLifecycleIT {

  @TempDir
  Path tmp;

  @Test
  void inProcessBrokerKeepsItsDataAcrossARestart() throws Exception {
    BrokerSettings settings = new BrokerSettings(tmp.resolve("data"), 0, 0);
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(settings, false)) {
      createTopic(broker.bootstrapServers(), "kept");
      produce(broker.bootstrapServers(), "kept", "v1");
    }
    try (EmbeddedKafkaBroker again = EmbeddedKafkaBroker.start(settings, true)) {
      assertEquals(List.of("v1"), consume(again.bootstrapServers(), "kept", 1));
    }
    assertFalse(tmp.resolve("data").toFile().exists(), "deleteOnClose removes the data");
  }

  @Test
  void brokerRunsAsAChildProcess() throws Exception {
    BrokerSettings settings = new BrokerSettings(tmp.resolve("proc"), 0, 0);
    try (BrokerProcess broker = BrokerProcess.start(settings, tmp.resolve("broker.log"), Duration.ofSeconds(90))) {
      createTopic(broker.bootstrapServers(), "remote");
      produce(broker.bootstrapServers(), "remote", "hello");
      assertEquals(List.of("hello"), consume(broker.bootstrapServers(), "remote", 1));
      assertFalse(broker.pid() == ProcessHandle.current().pid());
    }
  }

  private static void createTopic(String bootstrap, String name) throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin.createTopics(List.of(new NewTopic(name, 1, (short) 1))).all().get();
      assertEquals(Set.of(name), admin.listTopics().names().get());
    }
  }

  private static void produce(String bootstrap, String topic, String value) throws Exception {
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class, ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class))) {
      producer.send(new ProducerRecord<>(topic, "k", value)).get();
    }
  }

  private static List<String> consume(String bootstrap, String topic, int count) {
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.GROUP_ID_CONFIG, "g-" + System.nanoTime(), ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class, ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class))) {
      consumer.subscribe(List.of(topic));
      java.util.ArrayList<String> values = new java.util.ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (values.size() < count && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          values.add(r.value());
        }
      }
      return values;
    }
  }
}
