package io.marginal.streams.topology;

import io.marginal.schemas.DeadLetter;
import io.marginal.schemas.DeletionReceipt;
import io.marginal.schemas.UnlearningRequest;

/** What the memory-bank processor emits; the topology routes each kind to its topic. */
public sealed interface Emitted {

  /**
   * One bank entry upserted (an encoded {@code BankEntryChange}, encoded once for the store and the topic),
   * or (null) a tombstone on memory-banks; the record key is {@code user U+0000
   * entryId}, or the bare user id for a user-level tombstone (see {@link io.marginal.personalization.bank.BankChanges}).
   */
  record EntryChanged(byte[] encodedChange) implements Emitted {
  }

  record DeadLettered(DeadLetter letter) implements Emitted {
  }

  record ReceiptIssued(DeletionReceipt receipt) implements Emitted {
  }

  record UnlearningRequested(UnlearningRequest request) implements Emitted {
  }
}
