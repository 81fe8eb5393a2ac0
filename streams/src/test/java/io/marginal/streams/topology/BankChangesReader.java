package io.marginal.streams.topology;

import io.marginal.schemas.BankEntryChange;
import io.marginal.schemas.MemoryBank;
import io.marginal.personalization.bank.BankChanges;
import io.marginal.personalization.bank.ReplicatedBanks;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TestOutputTopic;

/**
 * Reads memory-banks.v2 the way an inference-node replica does (the same {@link ReplicatedBanks}), so
 * tests can still ask "what is the user's bank after this change" while the topic carries single-entry
 * deltas.
 */
public final class BankChangesReader {

  private final TestOutputTopic<String, BankEntryChange> topic;
  private final ReplicatedBanks replica = new ReplicatedBanks();

  BankChangesReader(TestOutputTopic<String, BankEntryChange> topic) {
    this.topic = topic;
  }

  public boolean isEmpty() {
    return topic.isEmpty();
  }

  /** The raw records published since the last read, applied to the replica view. */
  public List<KeyValue<String, BankEntryChange>> readRecords() {
    List<KeyValue<String, BankEntryChange>> records = topic.readKeyValuesToList();
    records.forEach(kv -> replica.apply(kv.key, kv.value));
    return records;
  }

  /** Applies everything published so far; the bank (null: none left) of the user the last record was about. */
  public MemoryBank readValue() {
    return readKeyValue().value;
  }

  public KeyValue<String, MemoryBank> readKeyValue() {
    List<KeyValue<String, BankEntryChange>> records = readRecords();
    if (records.isEmpty()) {
      throw new NoSuchElementException("nothing was published on memory-banks");
    }
    String user = BankChanges.userOf(records.get(records.size() - 1).key);
    return KeyValue.pair(user, replica.bankOf(user).orElse(null));
  }

  /** Applies (and so drains) everything published so far. */
  public void drain() {
    readRecords();
  }

  /** Every user's bank as a replica that read the whole topic holds it. */
  public Map<String, MemoryBank> view() {
    readRecords();
    return replica.banks();
  }
}
