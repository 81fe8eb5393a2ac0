package io.marginal.streams.topology;

import io.marginal.schemas.AdapterPublished;
import io.marginal.schemas.DeadLetter;
import io.marginal.schemas.DeletionReceipt;
import io.marginal.schemas.DeletionRequest;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.Interaction;
import io.marginal.schemas.MemoryBank;
import io.marginal.schemas.UnlearningRequest;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.Topics;
import io.marginal.streams.app.StreamsAppConfig;
import io.marginal.personalization.bank.BankChanges;
import io.marginal.streams.store.BankSummary;
import io.marginal.streams.store.MemoryBankStore;
import io.marginal.streams.store.StoredEntry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/** A TopologyTestDriver over the real topology with typed input and output topics. */
public final class TopologyFixture implements AutoCloseable {

  public final TopologyTestDriver driver;
  public final TestInputTopic<String, Interaction> interactions;
  public final TestInputTopic<String, Feedback> feedback;
  public final TestInputTopic<String, DeletionRequest> deletions;
  public final TestInputTopic<String, AdapterPublished> adapters;
  /** memory-banks.v2, read as a replica would: per-entry deltas folded into banks. */
  public final BankChangesReader banks;
  public final TestOutputTopic<String, DeletionReceipt> receipts;
  public final TestOutputTopic<String, UnlearningRequest> unlearning;
  public final TestOutputTopic<String, DeadLetter> deadLetters;
  public final Topics topics = Topics.defaults();

  /** The bank settings the topology tests run with: 5 min feedback window, 1 day retention, 256 entries, 10 s sweep. */
  public static final StreamsAppConfig.BankSettings SETTINGS = new StreamsAppConfig.BankSettings(java.time.Duration.ofMinutes(5),
      java.time.Duration.ofDays(1), 256, 64, "marginal-tiny", java.time.Duration.ofSeconds(10));

  public TopologyFixture(StreamsAppConfig.BankSettings bank) {
    StreamsAppConfig config = StreamsAppConfig.defaults().withBank(bank);
    StreamsBuilder builder = new StreamsBuilder();
    MemoryBankTopology.build(builder, topics, config);
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "marginal-streams-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    try {
      props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("ttd-").toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    driver = new TopologyTestDriver(builder.build(), props, Instant.ofEpochMilli(Events.T0));
    StringSerializer ks = new StringSerializer();
    StringDeserializer kd = new StringDeserializer();
    interactions = driver.createInputTopic(topics.name(Topics.INTERACTIONS), ks, MarginalSerdes.INTERACTION.serializer());
    feedback = driver.createInputTopic(topics.name(Topics.FEEDBACK), ks, MarginalSerdes.FEEDBACK.serializer());
    deletions = driver.createInputTopic(topics.name(Topics.DELETIONS), ks, MarginalSerdes.DELETION_REQUEST.serializer());
    adapters = driver.createInputTopic(topics.name(Topics.ADAPTERS), ks, MarginalSerdes.ADAPTER_PUBLISHED.serializer());
    banks = new BankChangesReader(driver.createOutputTopic(topics.name(Topics.MEMORY_BANKS), kd, BankChanges.SERDE.deserializer()));
    receipts = driver.createOutputTopic(topics.name(Topics.DELETION_RECEIPTS), kd, MarginalSerdes.DELETION_RECEIPT.deserializer());
    unlearning = driver.createOutputTopic(topics.name(Topics.UNLEARNING_REQUESTS), kd, MarginalSerdes.UNLEARNING_REQUEST.deserializer());
    deadLetters = driver.createOutputTopic(topics.name(Topics.DEAD_LETTERS), kd, MarginalSerdes.DEAD_LETTER.deserializer());
  }

  public void interact(Interaction i) {
    interactions.pipeInput(i.getUserId(), i, i.getTimestamp());
  }

  public void give(Feedback f) {
    feedback.pipeInput(f.getUserId(), f, f.getTimestamp());
  }

  public void delete(DeletionRequest d) {
    deletions.pipeInput(d.getUserId(), d, d.getTimestamp());
  }

  /** The user's bank as the streams app's own stores hold it (entries + summary), null when it has none. */
  public MemoryBank bankOf(String user) {
    KeyValueStore<String, StoredEntry> entries = driver.getKeyValueStore(MemoryBankTopology.BANKS_STORE);
    KeyValueStore<String, BankSummary> summaries = driver.getKeyValueStore(MemoryBankTopology.BANK_SUMMARIES_STORE);
    return MemoryBankStore.read(entries, summaries, user).orElse(null);
  }

  /** Keys of a store that belong to {@code user}. */
  public List<String> keysOf(String storeName, String user) {
    KeyValueStore<String, Object> store = driver.getKeyValueStore(storeName);
    List<String> keys = new ArrayList<>();
    try (KeyValueIterator<String, Object> it = store.all()) {
      it.forEachRemaining(kv -> {
        if (kv.key.equals(user) || kv.key.startsWith(user + '\u0000')) {
          keys.add(kv.key);
        }
      });
    }
    return keys;
  }

  /** Every user's bank as a replica that read all of memory-banks holds it (users without entries absent). */
  public java.util.Map<String, MemoryBank> bankTopicView() {
    return banks.view();
  }

  @Override
  public void close() {
    driver.close();
  }
}
