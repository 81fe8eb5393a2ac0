package io.marginal.trainer.node;

import io.marginal.schemas.UnlearningRequest;
import io.marginal.schemas.deadletter.DeadLetterPublisher;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.Topics;
import io.marginal.trainer.config.TrainerConfig;
import io.marginal.schemas.topics.AdapterScope;
import io.marginal.trainer.job.LoggingProgress;
import io.marginal.trainer.job.UnlearningJob;
import io.marginal.trainer.job.UnlearningOutcome;
import io.marginal.trainer.store.AdapterStore;
import io.marginal.trainer.store.StoredAdapter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A member of the trainer consumer group. For each unlearning request, one at a time: decode
 * (unreadable → dead-letter topic), validate (impossible → FAILED event and a REJECTED receipt
 * with the reason), skip if a stored version already came from this request (redelivery), train
 * and evaluate, store and publish — and only then commit the request's offset.
 */
public final class TrainerNode implements Runnable, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TrainerNode.class);

  private final TrainerConfig config;
  private final AdapterStore store;
  private final UnlearningJob job;
  private final RequestValidator validator;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final KafkaProducer<String, byte[]> producer;
  private final TrainerPublisher publisher;
  private final DeadLetterPublisher deadLetters;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final TrainerMetrics metrics;
  private final List<KafkaClientMetrics> clientMetrics = new ArrayList<>();
  private volatile Thread loopThread;

  public TrainerNode(TrainerConfig config, AdapterStore store, UnlearningJob job) {
    this(config, store, job, new SimpleMeterRegistry());
  }

  /**
   * A member whose meters (request outcomes, job durations, and its Kafka consumer's and producer's
   * client metrics) go to {@code registry}.
   */
  public TrainerNode(TrainerConfig config, AdapterStore store, UnlearningJob job, MeterRegistry registry) {
    this.config = config;
    this.metrics = new TrainerMetrics(registry);
    this.store = store;
    this.job = job;
    this.validator = new RequestValidator(config.baseModel());
    Map<String, Object> client = new HashMap<>(config.clientSecurity());
    client.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());

    Map<String, Object> consumerConfig = new HashMap<>(client);
    consumerConfig.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
    consumerConfig.put(ConsumerConfig.CLIENT_ID_CONFIG, config.nodeId());
    // Static membership: a trainer restarted after a crash (same node id) takes its partitions back at
    // once and resumes from the last committed request, instead of waiting out the dead member's
    // session and a rebalance that may wait for the whole max.poll.interval (a job's length).
    consumerConfig.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, config.nodeId());
    consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    consumerConfig.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    consumerConfig.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    consumerConfig.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1);
    // A training job runs between two polls: the group must not evict us meanwhile.
    consumerConfig.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, (int) config.maxJobDuration().toMillis());
    consumerConfig.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    consumerConfig.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    this.consumer = new KafkaConsumer<>(consumerConfig);

    Map<String, Object> producerConfig = new HashMap<>(client);
    producerConfig.put(ProducerConfig.CLIENT_ID_CONFIG, config.nodeId() + "-publisher");
    producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
    producerConfig.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    producerConfig.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    producerConfig.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    this.producer = new KafkaProducer<>(producerConfig);
    this.publisher = new TrainerPublisher(producer, config.topics(), Clock.systemUTC());
    this.deadLetters = DeadLetterPublisher.create(client, config.topics().name(Topics.DEAD_LETTERS), config.nodeId());
    clientMetrics.add(new KafkaClientMetrics(consumer));
    clientMetrics.add(new KafkaClientMetrics(producer));
    clientMetrics.forEach(m -> m.bindTo(registry));
  }

  private void warmUp() {
    long start = System.nanoTime();
    try {
      job.warmUp();
      LOG.info("trainer {}: job warmed up in {} ms", config.nodeId(), (System.nanoTime() - start) / 1_000_000);
    } catch (RuntimeException e) {
      LOG.warn("trainer {}: job warm-up failed ({}); the first request will compute what it needs", config.nodeId(), e.toString());
    }
  }

  /** Why this member should not be counted on now (its loop is not running), or empty. */
  public Optional<String> notReady() {
    Thread loop = loopThread;
    if (!running.get()) {
      return Optional.of("trainer " + config.nodeId() + " is stopping");
    }
    return loop != null && loop.isAlive() ? Optional.empty()
        : Optional.of("trainer " + config.nodeId() + " is not consuming " + config.topics().name(Topics.UNLEARNING_REQUESTS)
            + (loop == null ? " yet" : " (its loop ended; see the log)"));
  }

  @Override
  public void run() {
    loopThread = Thread.currentThread();
    LOG.info("trainer {} consuming {} as group {}", config.nodeId(), config.topics().name(Topics.UNLEARNING_REQUESTS), config.groupId());
    consumer.subscribe(List.of(config.topics().name(Topics.UNLEARNING_REQUESTS)));
    warmUp();
    try {
      while (running.get()) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          handle(record);
          consumer.commitSync(Map.of(new TopicPartition(record.topic(), record.partition()), new OffsetAndMetadata(record.offset() + 1)));
        }
      }
    } catch (WakeupException e) {
      if (running.get()) {
        throw e;
      }
    } finally {
      consumer.close(Duration.ofSeconds(5));
      LOG.info("trainer {} stopped", config.nodeId());
    }
  }

  void handle(ConsumerRecord<byte[], byte[]> record) {
    UnlearningRequest request;
    try {
      request = MarginalSerdes.UNLEARNING_REQUEST.deserialize(record.topic(), record.value());
    } catch (SerializationException e) {
      metrics.handled(TrainerMetrics.Outcome.UNREADABLE);
      deadLetters.publish(record, e.getMessage(), e);
      return;
    }
    if (request == null) {
      metrics.handled(TrainerMetrics.Outcome.UNREADABLE);
      deadLetters.publish(record, "null unlearning request (tombstone) on " + record.topic() + ": nothing to train", null);
      return;
    }
    Optional<String> refusal = validator.refusal(request);
    String adapterId = adapterIdOrUnknown(request.getScope());
    if (refusal.isPresent()) {
      LOG.warn("request {} refused: {}", request.getRequestId(), refusal.get());
      metrics.handled(TrainerMetrics.Outcome.REFUSED);
      publisher.failed(request, adapterId, refusal.get(), Map.of());
      return;
    }
    Optional<StoredAdapter> done = store.producedBy(adapterId, request.getRequestId());
    if (done.isPresent()) {
      LOG.info("request {} already produced {}; re-announcing it instead of training again", request.getRequestId(), done.get().label());
      metrics.handled(TrainerMetrics.Outcome.REDELIVERED);
      publisher.published(request, done.get(), Map.of());
      return;
    }
    train(request, adapterId);
  }

  private void train(UnlearningRequest request, String adapterId) {
    Optional<StoredAdapter> previous = store.latest(adapterId);
    int version = previous.map(a -> a.version() + 1).orElse(1);
    long started = System.nanoTime();
    LOG.info("request {}: training {} v{} ({} forget, {} retain examples, lineage {})", request.getRequestId(), adapterId, version,
        request.getForgetExamples().size(), request.getRetainExamples().size(), request.getLineage());
    Path workDir = newWorkDir(adapterId, version);
    UnlearningOutcome outcome;
    metrics.jobStarted();
    try {
      outcome = job.run(request, previous, workDir, new LoggingProgress(request.getRequestId(), 5));
    } catch (RuntimeException e) {
      LOG.error("request {}: job failed", request.getRequestId(), e);
      metrics.jobEnded(TrainerMetrics.Outcome.FAILED, System.nanoTime() - started);
      publisher.failed(request, adapterId, "training failed: " + e.getMessage(), Map.of());
      return;
    }
    metrics.jobEnded(outcome.passedGate() ? TrainerMetrics.Outcome.PUBLISHED : TrainerMetrics.Outcome.GATE_FAILED,
        System.nanoTime() - started);
    if (!outcome.passedGate()) {
      LOG.warn("request {}: {} v{} refused by the gate: {} {}", request.getRequestId(), adapterId, version, outcome.failureReason(), outcome.metrics());
      publisher.failed(request, adapterId, outcome.failureReason(), outcome.metrics());
      return;
    }
    StoredAdapter stored = store.put(adapterId, version, request.getRequestId(), outcome.adapterDir());
    publisher.published(request, stored, outcome.metrics());
    if (outcome.supersedesEarlierVersions()) {
      // Exact forgetting: the earlier versions were trained on data that is now deleted.
      for (StoredAdapter old : store.versions(adapterId)) {
        if (old.version() < stored.version()) {
          store.delete(adapterId, old.version());
          LOG.info("request {}: removed {} (trained on deleted data; superseded by {})", request.getRequestId(), old.label(),
              stored.label());
        }
      }
    }
    LOG.info("request {}: published {} sha256 {} in {} s, metrics {}", request.getRequestId(), stored.label(),
        stored.sha256().substring(0, 12), (System.nanoTime() - started) / 1_000_000_000, outcome.metrics());
  }

  private Path newWorkDir(String adapterId, int version) {
    try {
      Files.createDirectories(config.workDir());
      return Files.createTempDirectory(config.workDir(), adapterId + "-v" + version + "-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a work directory under " + config.workDir(), e);
    }
  }

  private static String adapterIdOrUnknown(String scope) {
    try {
      return AdapterScope.parse(scope).adapterId();
    } catch (IllegalArgumentException e) {
      return "invalid-scope";
    }
  }

  @Override
  public void close() {
    running.set(false);
    consumer.wakeup();
    Thread loop = loopThread;
    if (loop != null && loop != Thread.currentThread()) {
      try {
        loop.join(Duration.ofSeconds(30).toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    clientMetrics.forEach(KafkaClientMetrics::close);
    producer.close(Duration.ofSeconds(5));
    deadLetters.close();
  }
}
