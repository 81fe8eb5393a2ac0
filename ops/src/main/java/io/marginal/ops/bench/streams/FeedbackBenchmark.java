package io.marginal.ops.bench.streams;

import io.marginal.streams.query.MemoryBankTopicWatcher;
import io.marginal.config.Cli;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import io.marginal.kafka.embedded.EmbeddedKafkaBroker;
import io.marginal.schemas.Candidate;
import io.marginal.schemas.DeletionRequest;
import io.marginal.schemas.DeletionScope;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.FeedbackKind;
import io.marginal.schemas.Interaction;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.Topics;
import io.marginal.streams.app.MarginalStreamsApp;
import io.marginal.streams.app.StreamsAppConfig;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Steady-state throughput of feedback into the banks, feedback → replica latency at a paced rate, and
 * deletion → tombstone latency, end to end through a real broker (embedded, same JVM) and the real app
 * with exactly_once_v2 (3 partitions, 1 stream thread, commit interval 100 ms).
 *
 * <p>Usage: {@code FeedbackBenchmark [--bank-size=256] [--users=100] [--warmup=20000] [--events=40000]
 * [--rate=10000] [--paced-seconds=5] [--deletions=50] [--baseline=true]}.
 *
 * <ol>
 *   <li>Warm-up: {@code max(warmup, users × bank-size)} interaction + PREFERRED_RESPONSE feedback pairs,
 *       round-robin over users, with the per-user cap set to the bank size: every bank is full when
 *       measuring starts, so each measured event also evicts one entry (the steady state of a busy user).</li>
 *   <li>Throughput: {@code events} more pairs, sent as fast as the producer goes; timed from the first send
 *       until the last upsert is visible read_committed on memory-banks. Prints events/s, the stream thread's
 *       CPU per event, the whole process's CPU per event (broker and clients share it), and the bytes the
 *       app's producer sent per event (changelogs + memory-banks + transaction overhead).</li>
 *   <li>Latency: {@code rate × paced-seconds} pairs at {@code rate}/s; per feedback, send → its upsert on
 *       memory-banks (what a replica sees); p50/p99.</li>
 *   <li>Deletions: ALL_USER_DATA one at a time (the next once the last is visible), send → the user tombstone on memory-banks. By then each
 *       user has every interaction of the run stored (retention 1 day), all of which the deletion removes.</li>
 * </ol>
 *
 * Baseline in the same run ({@code --baseline}): an exactly-once pass-through app (feedback in, the same
 * record out; no state) on the same broker with the same settings: the ceiling that EOS, the broker and this
 * machine leave for any per-event work.
 */
public final class FeedbackBenchmark {

  record Options(int bankSize, int users, int warmup, int events, int rate, int pacedSeconds, int deletions, boolean baseline) {
  }

  private FeedbackBenchmark() {
  }

  public static void main(String[] args) {
    Cli.run(new Main(), args);
  }

  @Command(name = "FeedbackBenchmark", description = {"Feedback throughput into the banks, feedback -> replica latency at a paced rate and",
      "deletion -> tombstone latency, end to end through an embedded broker and the real app (exactly_once_v2)."})
  static final class Main implements Callable<Integer> {
    @Option(names = "--bank-size", paramLabel = "N", description = "Per-user bank cap; every bank is full when measuring starts.")
    int bankSize = 256;

    @Option(names = "--users", paramLabel = "N", description = "Users the load goes round-robin over.")
    int users = 100;

    @Option(names = "--warmup", paramLabel = "N", description = "Warm-up interaction + feedback pairs (at least users x bank-size).")
    int warmup = 20_000;

    @Option(names = "--events", paramLabel = "N", description = "Pairs sent as fast as the producer goes, for throughput.")
    int events = 40_000;

    @Option(names = "--rate", paramLabel = "N", description = "Pairs per second in the latency phase.")
    int rate = 10_000;

    @Option(names = "--paced-seconds", paramLabel = "N", description = "Length of the latency phase.")
    int pacedSeconds = 5;

    @Option(names = "--deletions", paramLabel = "N", description = "ALL_USER_DATA deletions, one at a time.")
    int deletions = 20;

    @Option(names = "--baseline", arity = "1", paramLabel = "true|false", description = "Also measure an exactly-once pass-through app.")
    boolean baseline = true;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      if (bankSize < 1 || users < 1 || warmup < 0 || events < 1 || rate < 1 || pacedSeconds < 1 || deletions < 0) {
        throw new IllegalArgumentException("--bank-size, --users, --events, --rate and --paced-seconds must be >= 1,"
            + " --warmup and --deletions >= 0");
      }
      run(new Options(bankSize, users, warmup, events, rate, pacedSeconds, deletions, baseline),
          String.join(" ", spec.commandLine().getParseResult().originalArgs()));
      return 0;
    }
  }

  private static void run(Options o, String args) throws Exception {
    try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.startTemporary()) {
      List<String> report = new ArrayList<>();
      if (o.baseline()) {
        report.add(PassThroughBaseline.run(kafka.bootstrapServers(), o.warmup(), o.events()));
      }
      report.addAll(runApp(kafka.bootstrapServers(), o));
      System.out.println();
      System.out.printf("FeedbackBenchmark %s; %d cores visible to the JVM (shared with whatever else runs on this machine)%n",
          args, Runtime.getRuntime().availableProcessors());
      report.forEach(System.out::println);
    }
  }

  private static List<String> runApp(String bootstrap, Options o) throws Exception {
    StreamsAppConfig defaults = StreamsAppConfig.defaults();
    StreamsAppConfig.BankSettings b = defaults.bank();
    StreamsAppConfig config = defaults.withBootstrapServers(bootstrap)
        .withState("marginal-bench", Files.createTempDirectory("bench-state"))
        .withBank(new StreamsAppConfig.BankSettings(b.feedbackWindow(), b.interactionRetention(), o.bankSize(),
            b.maxRetainExamples(), b.baseModel(), b.sweepInterval()))
        .withHttpPort(0);
    Topics topics = config.topics();
    List<String> report = new ArrayList<>();
    try (MarginalStreamsApp app = MarginalStreamsApp.start(config);
         MemoryBankTopicWatcher watcher = new MemoryBankTopicWatcher(bootstrap, topics.name(Topics.MEMORY_BANKS), false, true);
         KafkaProducer<String, byte[]> producer = producer(bootstrap)) {
      app.awaitRunning(Duration.ofSeconds(60));
      Load load = new Load(producer, topics, o.users());

      int warmup = Math.max(o.warmup(), o.users() * o.bankSize());
      load.send(warmup);
      await(() -> watcher.upserts() >= warmup, "warm-up", watcher, warmup);
      int fullest = watcher.liveEntryCounts().values().stream().mapToInt(x -> x).max().orElse(0);

      Map<String, Long> threadsBefore = ThreadCpu.snapshot();
      CpuMeter cpu = CpuMeter.start();
      double bytesBefore = AppMetrics.producerBytesSent(app.streams());
      long started = System.nanoTime();
      load.send(o.events());
      await(() -> watcher.upserts() >= warmup + (long) o.events(), "measurement", watcher, warmup + o.events());
      double seconds = (System.nanoTime() - started) / 1e9;
      CpuMeter.Reading used = cpu.stop();
      double bytes = AppMetrics.producerBytesSent(app.streams()) - bytesBefore;
      String threads = ThreadCpu.top(threadsBefore, ThreadCpu.snapshot(), o.events(), 8);
      report.add(String.format("app, bank size %d (cap %d, every bank full: largest %d), %d users: %d feedback events (+%d interactions)"
              + " in %.2f s = %.0f feedback events/s; stream thread CPU %.1f µs/event, process CPU %.1f µs/event;"
              + " app producer sent %.0f bytes/event (changelogs + memory-banks + txn)",
          o.bankSize(), o.bankSize(), fullest, o.users(), o.events(), o.events(), seconds, o.events() / seconds,
          used.streamThreadNanos() / 1e3 / o.events(), used.processNanos() / 1e3 / o.events(), bytes / o.events()));
      report.add("  CPU per feedback event by thread (Linux threads, digits folded): " + threads);

      long[] latency = load.paced(o.rate(), o.pacedSeconds(), watcher);
      report.add(String.format("app, feedback → upsert visible on memory-banks (read_committed) at %d feedback events/s for %d s:"
              + " p50 %.0f ms, p99 %.0f ms, max %.0f ms (%d events)",
          o.rate(), o.pacedSeconds(), pct(latency, 0.5), pct(latency, 0.99), latency[latency.length - 1] / 1e6, latency.length));

      long[] deletion = deletions(producer, topics, watcher, Math.min(o.deletions(), o.users()));
      report.add(String.format("app, ALL_USER_DATA deletion → user tombstone on memory-banks: p50 %.0f ms, p99 %.0f ms (%d deletions;"
          + " floor: the EOS commit interval %d ms)", pct(deletion, 0.5), pct(deletion, 0.99), deletion.length,
          config.commitInterval().toMillis()));
    }
    return report;
  }

  private static long[] deletions(KafkaProducer<String, byte[]> producer, Topics topics, MemoryBankTopicWatcher watcher, int count) {
    long[] latencies = new long[count];
    for (int d = 0; d < count; d++) {
      String user = "user-" + d;
      DeletionRequest request = DeletionRequest.newBuilder().setDeletionId("d-" + d).setUserId(user)
          .setTimestamp(Instant.now()).setScope(DeletionScope.ALL_USER_DATA).build();
      long sentAt = System.nanoTime();
      producer.send(new ProducerRecord<>(topics.name(Topics.DELETIONS), user, MarginalSerdes.DELETION_REQUEST.serialize("", request)));
      producer.flush();
      // One at a time: the next deletion goes once this one's tombstone is visible, so each figure is one
      // deletion's latency, not its place in a queue.
      boolean done = MemoryBankTopicWatcher.await(() -> {
        Long at = watcher.tombstonedAtNanos(user);
        return at != null && at >= sentAt;
      }, Duration.ofSeconds(60));
      if (!done) {
        throw new IllegalStateException("deletion d-" + d + " did not reach memory-banks as a tombstone within 60 s");
      }
      latencies[d] = watcher.tombstonedAtNanos(user) - sentAt;
    }
    Arrays.sort(latencies);
    return latencies;
  }

  private static void await(java.util.function.BooleanSupplier condition, String phase, MemoryBankTopicWatcher watcher, long expected) {
    if (!MemoryBankTopicWatcher.await(condition, Duration.ofSeconds(300))) {
      throw new IllegalStateException(phase + ": only " + watcher.upserts() + " of " + expected
          + " feedback events reached memory-banks within 300 s");
    }
  }

  static double pct(long[] sorted, double p) {
    return sorted[Math.max(0, (int) Math.ceil(sorted.length * p) - 1)] / 1e6;
  }

  /** Interaction + feedback pairs, round-robin over users; ids continue across phases. */
  private static final class Load {
    private final KafkaProducer<String, byte[]> producer;
    private final Topics topics;
    private final int users;
    private final Random random = new Random(1);
    private int next;

    Load(KafkaProducer<String, byte[]> producer, Topics topics, int users) {
      this.producer = producer;
      this.topics = topics;
      this.users = users;
    }

    /** Encodes {@code count} pairs first, then sends them as fast as the producer goes (the clock measures the app, not Avro here). */
    void send(int count) {
      List<ProducerRecord<String, byte[]>> records = new ArrayList<>(2 * count);
      for (int k = 0; k < count; k++) {
        records.addAll(pair().records());
      }
      records.forEach(producer::send);
      producer.flush();
    }

    /** Sends at {@code rate}/s; returns sorted send → visible latencies in ns. */
    long[] paced(int rate, int seconds, MemoryBankTopicWatcher watcher) throws InterruptedException {
      int count = rate * seconds;
      String[] ids = new String[count];
      long[] sentAt = new long[count];
      List<Pair> pairs = new ArrayList<>(count);
      for (int k = 0; k < count; k++) {
        pairs.add(pair());
      }
      long start = System.nanoTime();
      for (int k = 0; k < count; k++) {
        long due = start + (long) (k * 1e9 / rate);
        long wait = due - System.nanoTime();
        if (wait > 1_000_000) {
          Thread.sleep(wait / 1_000_000);
        }
        sentAt[k] = System.nanoTime();
        pairs.get(k).records().forEach(producer::send);
        ids[k] = pairs.get(k).feedbackId();
      }
      producer.flush();
      boolean done = MemoryBankTopicWatcher.await(() -> watcher.upsertedAtNanos(ids[count - 1]) != null, Duration.ofSeconds(120));
      if (!done) {
        throw new IllegalStateException("paced phase: feedback " + ids[count - 1] + " never reached memory-banks");
      }
      MemoryBankTopicWatcher.await(() -> Arrays.stream(ids).allMatch(id -> watcher.upsertedAtNanos(id) != null), Duration.ofSeconds(30));
      long[] latencies = new long[count];
      for (int k = 0; k < count; k++) {
        Long at = watcher.upsertedAtNanos(ids[k]);
        latencies[k] = at == null ? Long.MAX_VALUE : at - sentAt[k];
      }
      Arrays.sort(latencies);
      return latencies;
    }

    record Pair(String feedbackId, List<ProducerRecord<String, byte[]>> records) {
    }

    private Pair pair() {
      int n = next++;
      String user = "user-" + (n % users);
      String id = "i-" + n;
      long ts = System.currentTimeMillis();
      Interaction interaction = Interaction.newBuilder().setInteractionId(id).setUserId(user)
          .setTimestamp(Instant.ofEpochMilli(ts)).setModel("bench").setPrompt("prompt " + n).setResponse("r" + random.nextInt(10))
          .setCandidates(List.of(new Candidate("r0", 0.5), new Candidate("r1", 0.5)))
          .setInstanceEmbedding(embedding(random, 64)).build();
      Feedback feedback = Feedback.newBuilder().setFeedbackId("f-" + n).setUserId(user).setInteractionId(id)
          .setTimestamp(Instant.ofEpochMilli(ts)).setKind(FeedbackKind.PREFERRED_RESPONSE)
          .setPreferredResponse("r" + random.nextInt(10)).build();
      return new Pair("f-" + n, List.of(
          new ProducerRecord<>(topics.name(Topics.INTERACTIONS), null, ts, user, MarginalSerdes.INTERACTION.serialize("", interaction)),
          new ProducerRecord<>(topics.name(Topics.FEEDBACK), null, ts, user, MarginalSerdes.FEEDBACK.serialize("", feedback))));
    }
  }

  static List<Float> embedding(Random random, int dim) {
    List<Float> e = new ArrayList<>(dim);
    for (int i = 0; i < dim; i++) {
      e.add((float) random.nextGaussian() / (float) Math.sqrt(dim));
    }
    return e;
  }

  static KafkaProducer<String, byte[]> producer(String bootstrap) {
    return new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.LINGER_MS_CONFIG, 5,
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class));
  }
}
