package io.marginal.streams.topology;

import io.marginal.schemas.DeadLetter;
import io.marginal.schemas.DeletionReceipt;
import io.marginal.schemas.MemoryBank;
import io.marginal.schemas.UnlearningRequest;

/** What the memory-bank processor emits; the topology routes each kind to its topic. */
public sealed interface Emitted {

  /** The user's new bank, or null: a tombstone on memory-banks. */
  record BankChanged(MemoryBank bank) implements Emitted {
  }

  record DeadLettered(DeadLetter letter) implements Emitted {
  }

  record ReceiptIssued(DeletionReceipt receipt) implements Emitted {
  }

  record UnlearningRequested(UnlearningRequest request) implements Emitted {
  }
}
