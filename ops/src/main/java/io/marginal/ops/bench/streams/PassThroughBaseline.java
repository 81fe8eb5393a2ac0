package io.marginal.ops.bench.streams;

import io.marginal.streams.query.MemoryBankTopicWatcher;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.FeedbackKind;
import io.marginal.schemas.serde.MarginalSerdes;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * The baseline the benchmark prints beside the app: an exactly-once Kafka Streams app with the same
 * settings (3 partitions, 1 thread, commit interval 100 ms) that reads interaction and feedback records
 * and writes each feedback record out unchanged — no state, no decoding. What it reaches is the ceiling
 * that EOS, the broker and this machine leave; the app's figure is that ceiling minus its per-event work.
 */
final class PassThroughBaseline {

  private PassThroughBaseline() {
  }

  static String run(String bootstrap, int warmup, int events) throws Exception {
    String in = "baseline-interactions", fb = "baseline-feedback", out = "baseline-out";
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin.createTopics(List.of(new NewTopic(in, 3, (short) 1), new NewTopic(fb, 3, (short) 1), new NewTopic(out, 3, (short) 1)))
          .all().get();
    }
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(in, Consumed.with(Serdes.String(), Serdes.ByteArray())).filter((k, v) -> false)
        .to(out, Produced.with(Serdes.String(), Serdes.ByteArray()));
    builder.stream(fb, Consumed.with(Serdes.String(), Serdes.ByteArray())).to(out, Produced.with(Serdes.String(), Serdes.ByteArray()));
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, "bench-baseline");
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("baseline-state").toString());
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    AtomicLong seen = new AtomicLong();
    try (KafkaStreams streams = new KafkaStreams(builder.build(), p);
         KafkaProducer<String, byte[]> producer = FeedbackBenchmark.producer(bootstrap);
         Counter counter = new Counter(bootstrap, out, seen)) {
      streams.start();
      java.util.Random random = new java.util.Random(1);
      int[] next = {0};
      java.util.function.IntFunction<List<ProducerRecord<String, byte[]>>> encode = count -> {
        List<ProducerRecord<String, byte[]>> records = new java.util.ArrayList<>(2 * count);
        for (int k = 0; k < count; k++) {
          records.addAll(pair(random, next[0]++, in, fb));
        }
        return records;
      };
      List<ProducerRecord<String, byte[]>> warm = encode.apply(warmup);
      warm.forEach(producer::send);
      producer.flush();
      waitFor(() -> seen.get() >= warmup, "baseline warm-up");
      List<ProducerRecord<String, byte[]>> measured = encode.apply(events);
      CpuMeter cpu = CpuMeter.start();
      double bytesBefore = AppMetrics.producerBytesSent(streams);
      long started = System.nanoTime();
      measured.forEach(producer::send);
      producer.flush();
      waitFor(() -> seen.get() >= (long) warmup + events, "baseline measurement");
      double seconds = (System.nanoTime() - started) / 1e9;
      CpuMeter.Reading used = cpu.stop();
      double bytes = AppMetrics.producerBytesSent(streams) - bytesBefore;
      streams.close(Duration.ofSeconds(10));
      return String.format("baseline (EOS pass-through, no state, same broker and settings): %d feedback events (+%d interactions)"
              + " in %.2f s = %.0f feedback events/s; stream thread CPU %.1f µs/event, process CPU %.1f µs/event;"
              + " producer sent %.0f bytes/event",
          events, events, seconds, events / seconds, used.streamThreadNanos() / 1e3 / events, used.processNanos() / 1e3 / events,
          bytes / events);
    }
  }

  private static List<ProducerRecord<String, byte[]>> pair(java.util.Random random, int n, String in, String fb) {
    String user = "user-" + (n % 100);
    byte[] interaction = MarginalSerdes.INTERACTION.serialize("", io.marginal.schemas.Interaction.newBuilder()
        .setInteractionId("i-" + n).setUserId(user).setTimestamp(Instant.now()).setModel("bench").setPrompt("prompt " + n)
        .setResponse("r1").setCandidates(List.of()).setInstanceEmbedding(FeedbackBenchmark.embedding(random, 64)).build());
    byte[] feedback = MarginalSerdes.FEEDBACK.serialize("", Feedback.newBuilder().setFeedbackId("f-" + n).setUserId(user)
        .setInteractionId("i-" + n).setTimestamp(Instant.now()).setKind(FeedbackKind.PREFERRED_RESPONSE)
        .setPreferredResponse("r2").build());
    return List.of(new ProducerRecord<>(in, user, interaction), new ProducerRecord<>(fb, user, feedback));
  }

  private static void waitFor(java.util.function.BooleanSupplier condition, String phase) {
    if (!MemoryBankTopicWatcher.await(condition, Duration.ofSeconds(300))) {
      throw new IllegalStateException(phase + " did not finish within 300 s");
    }
  }

  /** Counts committed records on a topic. */
  private static final class Counter implements AutoCloseable {
    private final Thread thread;
    private volatile boolean running = true;

    Counter(String bootstrap, String topic, AtomicLong seen) {
      Map<String, Object> config = Map.of(
          ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
          ConsumerConfig.GROUP_ID_CONFIG, "baseline-counter-" + UUID.randomUUID(),
          ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
          ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
          ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
          ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
      thread = new Thread(() -> {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config)) {
          consumer.subscribe(List.of(topic));
          while (running) {
            seen.addAndGet(consumer.poll(Duration.ofMillis(20)).count());
          }
        }
      }, "baseline-counter");
      thread.setDaemon(true);
      thread.start();
    }

    @Override
    public void close() throws InterruptedException {
      running = false;
      thread.join(5000);
    }
  }
}
