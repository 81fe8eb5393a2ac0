package io.marginal.streams.topology;

import io.marginal.schemas.AdapterPublished;
import io.marginal.schemas.BankEntry;
import io.marginal.schemas.DeadLetter;
import io.marginal.schemas.deadletter.DeadLetters;
import io.marginal.schemas.DeletionReceipt;
import io.marginal.schemas.DeletionRequest;
import io.marginal.schemas.DeletionScope;
import io.marginal.schemas.ErasedItem;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.Interaction;
import io.marginal.schemas.ReceiptStatus;
import io.marginal.schemas.UnlearningRequest;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.Topics;
import io.marginal.streams.app.StreamsAppConfig.BankSettings;
import io.marginal.personalization.bank.DiscrepancyEntries;
import io.marginal.personalization.bank.DiscrepancyEntries.InvalidFeedbackException;
import io.marginal.personalization.bank.BankChanges;
import io.marginal.streams.store.ErasableStores;
import io.marginal.streams.store.MemoryBankStore;
import io.marginal.streams.store.WaitingFeedback;
import io.marginal.streams.deletion.AdapterLineage;
import io.marginal.streams.deletion.DeletionMatcher;
import io.marginal.schemas.receipts.DeletionReceipts;
import io.marginal.streams.deletion.UnlearningRequests;
import io.marginal.streams.topology.Emitted.EntryChanged;
import io.marginal.streams.topology.Emitted.DeadLettered;
import io.marginal.streams.topology.Emitted.ReceiptIssued;
import io.marginal.streams.topology.Emitted.UnlearningRequested;
import io.marginal.streams.topology.InputEvent.DeletionRequested;
import io.marginal.streams.topology.InputEvent.FeedbackGiven;
import io.marginal.streams.topology.InputEvent.Interacted;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns a user's stores: joins interactions with feedback into bank entries, buffers feedback that
 * comes first, expires what is too old (stream time), and carries out deletions. Input keys are user
 * ids on all three inputs, so one task sees everything about a user and the join needs no repartition.
 *
 * <p>Logs carry ids only, never prompts or responses.
 */
final class MemoryBankProcessor implements Processor<String, InputEvent, String, Emitted> {

  private static final Logger LOG = LoggerFactory.getLogger(MemoryBankProcessor.class);
  private static final StringSerializer KEYS = new StringSerializer();
  /** How often interactions that arrived after a concept deletion covering them are sent for unlearning. */
  static final Duration LATE_MATCH_FLUSH = Duration.ofMillis(200);
  /**
   * How often the local RocksDB files of users with a deletion are compacted: a quarter of the topics' segment
   * age, between 1 s and 60 s — well inside the receipt's bound (segment age + compaction lag / retention), and
   * rare enough that a burst of deletions costs one compaction per store, not one per deletion.
   */
  static Duration localErasureInterval(Topics topics) {
    long quarter = topics.settings().segmentAge().toMillis() / 4;
    return Duration.ofMillis(Math.max(1_000, Math.min(60_000, quarter)));
  }

  private final Topics topics;
  private final BankSettings settings;
  private ProcessorContext<String, Emitted> context;
  private MemoryBankStore bank;
  private KeyValueStore<String, byte[]> interactions;
  private KeyValueStore<String, String> expiry;
  private KeyValueStore<String, List<WaitingFeedback>> pending;
  private ReadOnlyKeyValueStore<String, ValueAndTimestamp<byte[]>> adapters;
  private LateArrivals late;
  /** Users whose deleted data may still sit in this task's SST files. */
  private final Set<String> toErase = new LinkedHashSet<>();

  MemoryBankProcessor(Topics topics, BankSettings settings) {
    this.topics = topics;
    this.settings = settings;
  }

  @Override
  public void init(ProcessorContext<String, Emitted> context) {
    this.context = context;
    this.bank = new MemoryBankStore(context.getStateStore(MemoryBankTopology.BANKS_STORE),
        context.getStateStore(MemoryBankTopology.BANK_SUMMARIES_STORE), context.getStateStore(MemoryBankTopology.BANK_ORDER_STORE));
    this.interactions = context.getStateStore(MemoryBankTopology.INTERACTIONS_STORE);
    this.expiry = context.getStateStore(MemoryBankTopology.INTERACTION_EXPIRY_STORE);
    this.pending = context.getStateStore(MemoryBankTopology.PENDING_FEEDBACK_STORE);
    this.adapters = context.getStateStore(MemoryBankTopology.ADAPTERS_STORE);
    this.late = new LateArrivals(context.getStateStore(MemoryBankTopology.RECENT_DELETIONS_STORE),
        context.getStateStore(MemoryBankTopology.LATE_MATCHES_STORE));
    late.rebuild(); // processors are initialised after their task's stores are restored
    context.schedule(settings.sweepInterval(), PunctuationType.STREAM_TIME, this::sweep);
    context.schedule(LATE_MATCH_FLUSH, PunctuationType.WALL_CLOCK_TIME, this::sendLateMatches);
    context.schedule(localErasureInterval(topics), PunctuationType.WALL_CLOCK_TIME, this::eraseLocally);
  }

  @Override
  public void process(Record<String, InputEvent> record) {
    String user = record.key();
    InputEvent event = record.value();
    if (event instanceof Interacted i) {
      onInteraction(user, i.interaction(), i.raw(), record);
    } else if (event instanceof FeedbackGiven f) {
      onFeedback(user, f.feedback(), record);
    } else if (event instanceof DeletionRequested d) {
      onDeletion(user, d.request(), record);
    }
  }

  // ---- join (point lookups only: no iterator per event) ----

  private void onInteraction(String user, Interaction interaction, byte[] raw, Record<String, InputEvent> record) {
    if (interaction == null || !StoreKeys.usable(user) || !user.equals(interaction.getUserId())
        || !StoreKeys.usable(interaction.getInteractionId())) {
      deadLetter(record, Topics.INTERACTIONS, raw,
          "interaction without a usable key/userId/interactionId (key=" + user + "); producers must key by user id and set ids");
      return;
    }
    String key = StoreKeys.interaction(user, interaction.getInteractionId());
    // Feedback that came first waits for this interaction; it is applied now, or dropped with a covered interaction.
    List<WaitingFeedback> waiting = pending.get(key);
    if (waiting != null) {
      pending.put(key, null);
    }
    Optional<DeletionRequest> covered = late.coverInteraction(user, interaction, record.timestamp());
    if (covered.isPresent()) {
      LOG.info("interaction {} of user {} arrived after deletion {} ({}) that covers it: not stored", interaction.getInteractionId(),
          user, covered.get().getDeletionId(), covered.get().getScope());
      return;
    }
    interactions.put(key, raw); // the bytes as they arrived: no second encoding
    expiry.put(StoreKeys.expiry(interaction.getTimestamp().toEpochMilli(), key), key);
    if (waiting != null) {
      for (WaitingFeedback w : waiting) {
        applyFeedback(user, interaction, w.feedback(), record.timestamp());
      }
    }
  }

  private void onFeedback(String user, Feedback feedback, Record<String, InputEvent> record) {
    if (feedback == null || !StoreKeys.usable(user) || !user.equals(feedback.getUserId())
        || !StoreKeys.usable(feedback.getInteractionId()) || !StoreKeys.usable(feedback.getFeedbackId())) {
      deadLetter(record, Topics.FEEDBACK, feedback == null ? null : MarginalSerdes.FEEDBACK.serialize("", feedback),
          "feedback without a usable key/userId/interactionId/feedbackId (key=" + user + "); producers must key by user id and set ids");
      return;
    }
    Optional<DeletionRequest> covered = late.coverFeedback(user, feedback, record.timestamp());
    if (covered.isPresent()) {
      LOG.info("feedback {} of user {} arrived after deletion {} ({}) that covers it: dropped", feedback.getFeedbackId(), user,
          covered.get().getDeletionId(), covered.get().getScope());
      return;
    }
    long streamTime = context.currentStreamTimeMs();
    if (record.timestamp() < streamTime - settings.interactionRetention().toMillis()) {
      deadLetter(record, Topics.FEEDBACK, MarginalSerdes.FEEDBACK.serialize("", feedback),
          "late feedback " + feedback.getFeedbackId() + " for interaction " + feedback.getInteractionId()
              + ": its timestamp is more than the interaction retention " + settings.interactionRetention()
              + " behind stream time, so the interaction has expired; feedback must be sent within that window");
      return;
    }
    String key = StoreKeys.interaction(user, feedback.getInteractionId());
    Interaction interaction = decode(interactions.get(key));
    if (interaction != null) {
      applyFeedback(user, interaction, feedback, record.timestamp());
    } else {
      List<WaitingFeedback> waiting = new ArrayList<>(Optional.ofNullable(pending.get(key)).orElse(List.of()));
      waiting.removeIf(w -> w.feedback().getFeedbackId().equals(feedback.getFeedbackId())); // a redelivery replaces itself
      waiting.add(new WaitingFeedback(streamTime, feedback));
      pending.put(key, waiting);
      LOG.debug("feedback {} of user {} waits for interaction {}", feedback.getFeedbackId(), user, feedback.getInteractionId());
    }
  }

  private void applyFeedback(String user, Interaction interaction, Feedback feedback, long timestamp) {
    Optional<BankEntry> entry;
    try {
      entry = DiscrepancyEntries.fromFeedback(interaction, feedback);
    } catch (InvalidFeedbackException e) {
      forwardDeadLetter(user, Topics.FEEDBACK, MarginalSerdes.FEEDBACK.serialize("", feedback), e.getMessage(),
          e.getClass().getName(), timestamp);
      return;
    }
    if (entry.isEmpty()) {
      return;
    }
    MemoryBankStore.Upserted upserted = bank.upsert(user, entry.get(), settings.maxEntriesPerUser(), timestamp);
    context.forward(new Record<>(BankChanges.entryKey(user, entry.get().getEntryId()), new EntryChanged(upserted.encodedChange()), timestamp));
    for (String evicted : upserted.evictedKeys()) {
      context.forward(new Record<>(evicted, new EntryChanged(null), timestamp));
    }
  }

  // ---- expiry (stream time; the expiry index is read oldest first and only as far as the cutoff) ----

  private void sweep(long streamTime) {
    toErase.addAll(late.expire(streamTime - settings.feedbackWindow().toMillis())); // their requests may name concepts
    long interactionCutoff = streamTime - settings.interactionRetention().toMillis();
    List<KeyValue<String, String>> expired = new ArrayList<>();
    try (KeyValueIterator<String, String> it = expiry.all()) {
      while (it.hasNext()) {
        KeyValue<String, String> kv = it.next();
        if (StoreKeys.expiryTimestamp(kv.key) >= interactionCutoff) {
          break;
        }
        expired.add(kv);
      }
    }
    for (KeyValue<String, String> kv : expired) {
      expiry.put(kv.key, null);
      Interaction stored = decode(interactions.get(kv.value));
      if (stored != null && stored.getTimestamp().toEpochMilli() < interactionCutoff) {
        interactions.put(kv.value, null);
      }
    }

    long feedbackCutoff = streamTime - settings.feedbackWindow().toMillis();
    List<KeyValue<String, List<WaitingFeedback>>> touched = new ArrayList<>();
    try (KeyValueIterator<String, List<WaitingFeedback>> it = pending.all()) {
      it.forEachRemaining(kv -> {
        if (kv.value.stream().anyMatch(w -> w.bufferedAtMs() < feedbackCutoff)) {
          touched.add(kv);
        }
      });
    }
    for (KeyValue<String, List<WaitingFeedback>> kv : touched) {
      List<WaitingFeedback> keep = kv.value.stream().filter(w -> w.bufferedAtMs() >= feedbackCutoff).toList();
      pending.put(kv.key, keep.isEmpty() ? null : keep);
      for (WaitingFeedback w : kv.value) {
        if (w.bufferedAtMs() >= feedbackCutoff) {
          continue;
        }
        Feedback f = w.feedback();
        forwardDeadLetter(f.getUserId(), Topics.FEEDBACK, MarginalSerdes.FEEDBACK.serialize("", f),
            "unmatched feedback " + f.getFeedbackId() + ": no interaction " + f.getInteractionId() + " for user " + f.getUserId()
                + " arrived within the feedback window " + settings.feedbackWindow()
                + " (unknown, expired after " + settings.interactionRetention() + ", or deleted); resend it with a served interaction id",
            null, streamTime);
      }
    }
  }

  // ---- deletions ----

  private void onDeletion(String user, DeletionRequest request, Record<String, InputEvent> record) {
    Instant hiddenAt = Instant.ofEpochMilli(context.currentSystemTimeMs());
    if (request == null || !StoreKeys.usable(user)) {
      deadLetter(record, Topics.DELETIONS, request == null ? null : MarginalSerdes.DELETION_REQUEST.serialize("", request),
          "deletion request without a usable key (key=" + user + "); producers must key deletions by user id");
      return;
    }
    DeletionMatcher matcher = new DeletionMatcher(request);
    String problem = !user.equals(request.getUserId())
        ? "deletion " + request.getDeletionId() + " is keyed by " + user + " but names user " + request.getUserId()
        + "; nothing was deleted, resend it keyed by the user id" : matcher.problem();
    if (problem != null) {
      emitReceipt(user, DeletionReceipts.receipt(request, ReceiptStatus.REJECTED, List.of(), hiddenAt, 0, null, problem),
          record.timestamp());
      return;
    }

    MemoryBankStore.Removed bankRemoval = bank.remove(user, matcher.entries(), record.timestamp());
    List<BankEntry> removedEntries = bankRemoval.removed();
    List<Interaction> removedInteractions = removeInteractions(user, matcher.interactions());
    List<Feedback> removedPending = removePendingMatching(user, matcher.pendingFeedback());

    List<ErasedItem> erased = new ArrayList<>();
    erased.add(new ErasedItem(MemoryBankTopology.BANKS_STORE, user, removedEntries.size()));
    erased.add(new ErasedItem(MemoryBankTopology.INTERACTIONS_STORE, user, removedInteractions.size()));
    erased.add(new ErasedItem(MemoryBankTopology.PENDING_FEEDBACK_STORE, user, removedPending.size()));

    for (BankEntry e : removedEntries) {
      context.forward(new Record<>(BankChanges.entryKey(user, e.getEntryId()), new EntryChanged(null), record.timestamp()));
    }
    if (request.getScope() == DeletionScope.ALL_USER_DATA) {
      // Always a user-level tombstone as well: it clears a replica that holds entries this instance does not know of.
      context.forward(new Record<>(user, new EntryChanged(null), record.timestamp()));
      erased.add(new ErasedItem(topics.name(Topics.MEMORY_BANKS), user, 1));
    } else if (!removedEntries.isEmpty()) {
      erased.add(new ErasedItem(topics.name(Topics.MEMORY_BANKS), user, 1));
    }

    Set<String> eventIds = new LinkedHashSet<>();
    removedEntries.forEach(e -> {
      eventIds.add(e.getInteractionId());
      eventIds.addAll(e.getFeedbackIds());
    });
    removedInteractions.forEach(i -> eventIds.add(i.getInteractionId()));
    removedPending.forEach(f -> eventIds.add(f.getFeedbackId()));
    Set<String> touchedAdapters = AdapterLineage.trainedOn(publishedAdapters(), eventIds);
    String adapterNote = touchedAdapters.isEmpty() ? "" : "; adapters trained on this data: " + String.join(",", touchedAdapters);

    long bound = topics.userDataErasureBoundMs();
    DeletionReceipt receipt;
    boolean unlearn = (request.getScope() == DeletionScope.CONCEPT || request.getScope() == DeletionScope.PREFERENCE);
    if (unlearn) {
      List<BankEntry> kept = bankRemoval.kept();
      UnlearningRequest ur = UnlearningRequests.build(request, matcher, removedEntries, removedInteractions, kept,
          touchedAdapters, eventIds, settings.baseModel(), settings.maxRetainExamples(), hiddenAt);
      if (ur.getForgetExamples().isEmpty() && touchedAdapters.isEmpty()) {
        receipt = DeletionReceipts.receipt(request, ReceiptStatus.COMPLETED, erased, hiddenAt, bound, null,
            "nothing held for this user matched; no unlearning needed (records served before this deletion that arrive within "
                + settings.feedbackWindow() + " are covered too: they are not stored, and matching ones are sent for unlearning"
                + " under this deletion id)");
      } else {
        context.forward(new Record<>(UnlearningRequests.scopeOf(user), new UnlearningRequested(ur), record.timestamp()));
        receipt = DeletionReceipts.receipt(request, ReceiptStatus.PENDING_UNLEARNING, erased, hiddenAt, bound,
            ur.getRequestId(), "matching entries erased from the bank; " + ur.getForgetExamples().size()
                + " forget examples sent for unlearning" + adapterNote);
      }
    } else {
      boolean nothing = removedEntries.isEmpty() && bankRemoval.kept().isEmpty() && removedInteractions.isEmpty()
          && removedPending.isEmpty();
      receipt = DeletionReceipts.receipt(request, ReceiptStatus.COMPLETED, erased, hiddenAt, bound, null,
          (nothing ? "nothing held for this user" : "erased") + adapterNote);
    }
    emitReceipt(user, receipt, record.timestamp());
    if (StoreKeys.usable(request.getDeletionId())) {
      late.remember(user, request, record.timestamp());
    }
    toErase.add(user);
    LOG.info("deletion {} ({}) of user {}: {} entries, {} interactions, {} pending feedback erased; receipt {}",
        request.getDeletionId(), request.getScope(), user, removedEntries.size(), removedInteractions.size(),
        removedPending.size(), receipt.getStatus());
  }

  /**
   * Makes deleted values of users with a deletion physically gone from this task's RocksDB files: flush and
   * compact each user-text store over the user's key range (see {@link ErasableStores}). A RocksDB delete alone
   * leaves the old value in SST files until some compaction happens to rewrite them.
   */
  private void eraseLocally(long now) {
    if (toErase.isEmpty()) {
      return;
    }
    for (String storeName : MemoryBankTopology.USER_TEXT_STORES) {
      ErasableStores.ErasableStore store = ErasableStores.find(context.getStateStore(storeName));
      if (store == null) {
        LOG.warn("store {} is not erasable; deleted values stay in its files until RocksDB compacts them", storeName);
        continue;
      }
      store.erase(toErase);
    }
    LOG.info("local state of {} user(s) compacted after their deletions", toErase.size());
    toErase.clear();
  }

  /** Sends interactions that arrived after a concept/preference deletion covering them for unlearning (one request per deletion). */
  private void sendLateMatches(long now) {
    for (LateArrivals.Parked p : late.drain()) {
      toErase.add(p.user()); // the parked interactions were deleted from late-deletion-matches
      DeletionRequest deletion = p.deletion();
      DeletionMatcher matcher = new DeletionMatcher(deletion);
      Instant at = Instant.ofEpochMilli(now);
      List<BankEntry> kept = bank.entriesOf(p.user());
      Set<String> eventIds = new LinkedHashSet<>();
      p.interactions().forEach(i -> eventIds.add(i.getInteractionId()));
      List<ErasedItem> erased = List.of(new ErasedItem(MemoryBankTopology.INTERACTIONS_STORE, p.user(), p.interactions().size()));
      UnlearningRequest built = UnlearningRequests.build(deletion, matcher, List.of(), p.interactions(), kept, List.of(), eventIds,
          settings.baseModel(), settings.maxRetainExamples(), at);
      DeletionReceipt receipt;
      if (built.getForgetExamples().isEmpty()) {
        receipt = DeletionReceipts.receipt(deletion, ReceiptStatus.COMPLETED, erased, at, topics.userDataErasureBoundMs(), null,
            p.interactions().size() + " interaction(s) served before the deletion arrived after it and were not stored; none of their"
                + " answers named it, no unlearning needed");
      } else {
        UnlearningRequest ur = UnlearningRequest.newBuilder(built)
            .setRequestId(UnlearningRequests.requestId(deletion) + "-late-" + p.interactions().get(0).getInteractionId()).build();
        context.forward(new Record<>(UnlearningRequests.scopeOf(p.user()), new UnlearningRequested(ur), now));
        receipt = DeletionReceipts.receipt(deletion, ReceiptStatus.PENDING_UNLEARNING, erased, at, topics.userDataErasureBoundMs(),
            ur.getRequestId(), p.interactions().size() + " interaction(s) served before the deletion arrived after it: not stored; "
                + ur.getForgetExamples().size() + " forget examples sent for unlearning");
      }
      emitReceipt(p.user(), receipt, now);
      LOG.info("deletion {} of user {}: {} late interaction(s) covered; receipt {}", deletion.getDeletionId(), p.user(),
          p.interactions().size(), receipt.getStatus());
    }
  }

  private List<Interaction> removeInteractions(String user, Predicate<Interaction> doomed) {
    List<KeyValue<String, Interaction>> hits = new ArrayList<>();
    try (KeyValueIterator<String, byte[]> it = interactions.prefixScan(StoreKeys.userPrefix(user), KEYS)) {
      it.forEachRemaining(kv -> {
        Interaction i = decode(kv.value);
        if (doomed.test(i)) {
          hits.add(KeyValue.pair(kv.key, i));
        }
      });
    }
    hits.forEach(kv -> interactions.put(kv.key, null));
    return hits.stream().map(kv -> kv.value).toList();
  }

  private static Interaction decode(byte[] stored) {
    return stored == null ? null : MarginalSerdes.INTERACTION.deserialize(Topics.INTERACTIONS, stored);
  }

  private List<Feedback> removePendingMatching(String user, Predicate<Feedback> doomed) {
    List<KeyValue<String, List<WaitingFeedback>>> touched = new ArrayList<>();
    try (KeyValueIterator<String, List<WaitingFeedback>> it = pending.prefixScan(StoreKeys.userPrefix(user), KEYS)) {
      it.forEachRemaining(kv -> {
        if (kv.value.stream().anyMatch(w -> doomed.test(w.feedback()))) {
          touched.add(kv);
        }
      });
    }
    List<Feedback> removed = new ArrayList<>();
    for (KeyValue<String, List<WaitingFeedback>> kv : touched) {
      List<WaitingFeedback> keep = new ArrayList<>();
      for (WaitingFeedback w : kv.value) {
        if (doomed.test(w.feedback())) {
          removed.add(w.feedback());
        } else {
          keep.add(w);
        }
      }
      pending.put(kv.key, keep.isEmpty() ? null : keep);
    }
    return removed;
  }

  private List<AdapterPublished> publishedAdapters() {
    List<AdapterPublished> out = new ArrayList<>();
    try (KeyValueIterator<String, ValueAndTimestamp<byte[]>> it = adapters.all()) {
      it.forEachRemaining(kv -> {
        byte[] bytes = kv.value == null ? null : kv.value.value();
        try {
          AdapterPublished a = MarginalSerdes.ADAPTER_PUBLISHED.deserialize(MemoryBankTopology.ADAPTERS_STORE, bytes);
          if (a != null) {
            out.add(a);
          }
        } catch (SerializationException e) {
          LOG.warn("adapter-lineage entry {} is unreadable and is skipped: {}", kv.key, e.getMessage());
        }
      });
    }
    return out;
  }

  private void emitReceipt(String user, DeletionReceipt receipt, long timestamp) {
    context.forward(new Record<>(user, new ReceiptIssued(receipt), timestamp));
  }

  // ---- dead letters (inside the EOS transaction: they go through a sink, not a side producer) ----

  private void deadLetter(Record<String, InputEvent> record, String sourceBase, byte[] value, String reason) {
    forwardDeadLetter(record.key(), sourceBase, value, reason, null, record.timestamp());
  }

  private void forwardDeadLetter(String key, String sourceBase, byte[] value, String reason, String errorClass, long timestamp) {
    Optional<RecordMetadata> meta = context.recordMetadata();
    DeadLetter letter = DeadLetters.letter(meta.map(RecordMetadata::topic).orElse(topics.name(sourceBase)),
        meta.map(RecordMetadata::partition).orElse(context.taskId().partition()), meta.map(RecordMetadata::offset).orElse(-1L),
        context.applicationId(), reason, errorClass, key == null ? null : key.getBytes(StandardCharsets.UTF_8), value,
        Instant.ofEpochMilli(timestamp));
    context.forward(new Record<>(key, new DeadLettered(letter), timestamp, DeadLetters.headers(letter)));
    LOG.warn("dead-lettered a {} record of user {}: {}", sourceBase, key, reason);
  }
}
