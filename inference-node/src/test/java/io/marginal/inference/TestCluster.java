package io.marginal.inference;

import io.marginal.inference.config.InferenceConfig;
import io.marginal.kafka.embedded.EmbeddedKafkaBroker;
import io.marginal.model.LanguageModel;
import io.marginal.model.adapters.PeftAdapterWriter;
import io.marginal.model.lora.AdapterMetadata;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.lora.LoraConfig;
import io.marginal.model.weights.Projection;
import io.marginal.schemas.AdapterPublished;
import io.marginal.schemas.AdapterStatus;
import io.marginal.schemas.DeletionReceipt;
import io.marginal.schemas.DeletionScope;
import io.marginal.schemas.ErasedItem;
import io.marginal.schemas.ReceiptStatus;
import io.marginal.schemas.topics.TopicProvisioner;
import io.marginal.schemas.topics.Topics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** A real broker, topics under a fresh prefix, the tiny model, and helpers to produce and read. */
final class TestCluster implements AutoCloseable {

  static final String MODEL = "marginal-demo";
  static final String ALICE_KEY = "sk-alice-test-1234";
  static final String BOB_KEY = "sk-bob-test-5678";
  static final String ADMIN_KEY = "sk-admin-test-9999";

  final EmbeddedKafkaBroker broker;
  final Topics topics;
  final LanguageModel model;
  final Path adapterStore;
  final KafkaProducer<String, byte[]> producer;

  TestCluster() {
    broker = EmbeddedKafkaBroker.startTemporary();
    String prefix = "t" + UUID.randomUUID().toString().substring(0, 6) + ".";
    topics = new Topics(new io.marginal.schemas.topics.TopicSettings(prefix, 2, (short) 1, Duration.ofHours(1),
        Duration.ofHours(1), Duration.ofDays(1)));
    TopicProvisioner.ensureTopics(broker.bootstrapServers(), Map.of(), topics);
    model = LanguageModel.load(TestModels.tinyCheckpoint());
    try {
      adapterStore = Files.createTempDirectory("marginal-adapter-store-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, Object> p = new HashMap<>();
    p.put("bootstrap.servers", broker.bootstrapServers());
    p.put("key.serializer", StringSerializer.class);
    p.put("value.serializer", ByteArraySerializer.class);
    producer = new KafkaProducer<>(p);
  }

  /** Node configuration for this cluster; {@code overrides} in environment-key form. */
  InferenceConfig config(String nodeId, Map<String, String> overrides) {
    Map<String, String> env = new HashMap<>();
    env.put("MARGINAL_HTTP_HOST", "127.0.0.1");
    env.put("MARGINAL_HTTP_PORT", "0");
    env.put("MARGINAL_BOOTSTRAP_SERVERS", broker.bootstrapServers());
    env.put("MARGINAL_TOPIC_PREFIX", topics.settings().prefix());
    env.put("MARGINAL_TOPIC_PARTITIONS", "2");
    env.put("MARGINAL_NODE_ID", nodeId);
    env.put("MARGINAL_BASE_MODEL", MODEL);
    env.put("MARGINAL_ADAPTER_STORE", adapterStore.toString());
    env.put("MARGINAL_API_KEYS", ALICE_KEY + ":alice," + BOB_KEY + ":bob");
    env.put("MARGINAL_ADMIN_KEY", ADMIN_KEY);
    env.put("MARGINAL_WORKER_THREADS", "2");
    env.put("MARGINAL_QUEUE_CAPACITY", "64");
    env.put("MARGINAL_MAX_BODY_BYTES", "65536");
    env.put("MARGINAL_MAX_PROMPT_CHARS", "4000");
    env.put("MARGINAL_MAX_PROMPT_TOKENS", "300");
    env.put("MARGINAL_DEFAULT_MAX_TOKENS", "16");
    env.putAll(overrides);
    return InferenceConfig.from(env);
  }

  InferenceNode startNode(String nodeId, Map<String, String> overrides) throws InterruptedException {
    InferenceNode node = InferenceNode.start(config(nodeId, overrides), model, false);
    if (!node.awaitReady(Duration.ofSeconds(60))) {
      throw new IllegalStateException("node " + nodeId + " not ready in 60 s");
    }
    return node;
  }

  void send(String base, String key, byte[] value) {
    try {
      producer.send(new ProducerRecord<>(topics.name(base), key, value)).get(30, TimeUnit.SECONDS);
    } catch (InterruptedException | ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("cannot produce to " + base, e);
    }
  }

  /** Publishes a deletion receipt the way the streams app does (key: user id). */
  DeletionReceipt publishReceipt(String userId, String deletionId, DeletionScope scope, ReceiptStatus status) {
    Instant now = Instant.now();
    DeletionReceipt receipt = DeletionReceipt.newBuilder().setDeletionId(deletionId).setUserId(userId).setScope(scope)
        .setStatus(status).setErased(List.of(new ErasedItem("memory-bank-store", userId, 2), new ErasedItem(topics.name(Topics.MEMORY_BANKS), userId, 1)))
        .setHiddenAt(now).setPhysicallyErasedBy(now.plus(Duration.ofHours(1)))
        .setUnlearningRequestId(status == ReceiptStatus.PENDING_UNLEARNING ? "unlearn-" + deletionId : null)
        .setCoveringAdapter(null).setDetail("bank entries removed; changelog compacted within 1 h").setTimestamp(now).build();
    send(Topics.DELETION_RECEIPTS, userId, io.marginal.schemas.serde.MarginalSerdes.DELETION_RECEIPT.serialize(Topics.DELETION_RECEIPTS, receipt));
    return receipt;
  }

  /** Writes a LoRA adapter version into the store the way the trainer does; returns its PUBLISHED event. */
  AdapterPublished publishAdapter(String adapterId, String scope, int version, long seed) {
    return publishAdapter(adapterId, scope, version, seed, MODEL, false);
  }

  /**
   * Publishes a version that changes the model's answers: its B factors get seeded random values
   * (a fresh LoRA's B is zero, so {@link #publishAdapter} versions leave every answer as it was).
   */
  AdapterPublished publishEffectiveAdapter(String adapterId, String scope, int version, long seed) {
    return publishAdapter(adapterId, scope, version, seed, MODEL, false, true);
  }

  /** Publishes a version whose safetensors file is damaged after its checksum was taken. */
  AdapterPublished publishAdapterCorrupted(String adapterId, String scope, int version, long seed) {
    return publishAdapter(adapterId, scope, version, seed, MODEL, true);
  }

  /** Publishes a version trained (so its manifest and event say) for another base model. */
  AdapterPublished publishAdapterForOtherBase(String adapterId, String scope, int version, long seed) {
    return publishAdapter(adapterId, scope, version, seed, "llama-70b", false);
  }

  private AdapterPublished publishAdapter(String adapterId, String scope, int version, long seed, String base, boolean corrupt) {
    return publishAdapter(adapterId, scope, version, seed, base, corrupt, false);
  }

  private AdapterPublished publishAdapter(String adapterId, String scope, int version, long seed, String base, boolean corrupt,
      boolean effective) {
    Path dir = adapterStore.resolve(adapterId).resolve("v" + version);
    try (LoraAdapter adapter = LoraAdapter.create(adapterId, version, model.config(),
        LoraConfig.of(2, 4, 0, Projection.Q, Projection.V), model.manager(), seed)) {
      if (effective) {
        java.util.Random random = new java.util.Random(seed);
        for (io.marginal.model.lora.LoraTarget t : adapter.targets()) {
          float[] values = new float[(int) adapter.loraB(t).getShape().size()];
          for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * 0.5);
          }
          adapter.loraB(t).set(values);
        }
        adapter.contentChanged();
      }
      adapter.setMetadata(new AdapterMetadata(base, List.of("req-" + version), Map.of("forget_accuracy", 0.1)));
      var manifest = PeftAdapterWriter.write(adapter, dir);
      if (corrupt) {
        Path file = dir.resolve("adapter_model.safetensors");
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 1] ^= 0x5A;
        Files.write(file, bytes);
      }
      AdapterPublished event = AdapterPublished.newBuilder().setAdapterId(adapterId).setScope(scope).setVersion(version)
          .setStatus(AdapterStatus.PUBLISHED).setBaseModel(base).setUri(dir.toUri().toString()).setSha256(manifest.sha256())
          .setSizeBytes(Files.size(dir.resolve("adapter_model.safetensors"))).setRequestId("req-" + version)
          .setTimestamp(Instant.now()).build();
      send(Topics.ADAPTERS, io.marginal.schemas.topics.AdapterKeys.version(adapterId, version), io.marginal.schemas.serde.MarginalSerdes.ADAPTER_PUBLISHED.serialize(Topics.ADAPTERS, event));
      return event;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads {@code base} from the beginning until a decoded record satisfies {@code match}. */
  <T> T await(String base, Function<byte[], T> decode, Predicate<T> match, Duration timeout) {
    Map<String, Object> c = new HashMap<>();
    c.put("bootstrap.servers", broker.bootstrapServers());
    c.put("key.deserializer", ByteArrayDeserializer.class);
    c.put("value.deserializer", ByteArrayDeserializer.class);
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c)) {
      List<TopicPartition> parts = new ArrayList<>();
      consumer.partitionsFor(topics.name(base)).forEach(p -> parts.add(new TopicPartition(p.topic(), p.partition())));
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.value() == null) {
            continue;
          }
          T value = decode.apply(r.value());
          if (match.test(value)) {
            return value;
          }
        }
      }
    }
    throw new AssertionError("no matching record on " + base + " within " + timeout);
  }

  /**
   * What log compaction leaves of {@code base}: the last value per key, in the order of those last
   * records (tombstoned keys dropped). Read up to the current end of the topic.
   */
  Map<String, byte[]> compactedView(String base) {
    Map<String, Object> c = new HashMap<>();
    c.put("bootstrap.servers", broker.bootstrapServers());
    c.put("key.deserializer", ByteArrayDeserializer.class);
    c.put("value.deserializer", ByteArrayDeserializer.class);
    Map<String, byte[]> view = new java.util.LinkedHashMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c)) {
      List<TopicPartition> parts = new ArrayList<>();
      consumer.partitionsFor(topics.name(base)).forEach(p -> parts.add(new TopicPartition(p.topic(), p.partition())));
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts);
      while (parts.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          String key = new String(r.key(), java.nio.charset.StandardCharsets.UTF_8);
          view.remove(key);
          if (r.value() != null) {
            view.put(key, r.value());
          }
        }
      }
    }
    return view;
  }

  @Override
  public void close() {
    producer.close();
    model.close();
    broker.close();
  }
}
