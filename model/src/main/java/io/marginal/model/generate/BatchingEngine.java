package io.marginal.model.generate;

import ai.djl.ndarray.NDManager;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.ConcatenatedLora;
import io.marginal.model.lora.MergedAdapters;
import io.marginal.model.lora.SlotLora;
import io.marginal.model.tokenizer.TextTokenizer;
import io.marginal.model.transformer.BatchKvCache;
import io.marginal.model.transformer.NoGradScope;
import io.marginal.model.transformer.ProjectionAdapter;
import io.marginal.model.transformer.Transformer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous batching: one thread steps every active sequence together, one forward pass per
 * generated token for the whole batch, whatever adapters each sequence uses.
 *
 * <pre>
 *   loop:
 *     take the requests that queued meanwhile and fit the batch; each gets a row of the
 *       preallocated batch cache
 *     one step, one forward pass: every running row feeds its last token at its own position, with
 *       its own adapters (per-slot LoRA, {@link SlotLora}), and each admitted prompt feeds all its
 *       tokens, with its request's adapters (each token its slot's, {@link SlotLora}); no separate
 *       prefill pass
 *     sample each row with its own sampler, and each admitted request's first token from its
 *       prompt's last position; rows that end (stop token or string, max_tokens, context length,
 *       listener says stop) leave the batch and complete their future
 * </pre>
 *
 * A request submitted as a group ({@link #submitGroup}: e.g. the greedy answer and the samples of
 * one prompt) is prefilled once and its KV row copied. Per-token arithmetic is the single-sequence
 * {@link Generator}'s (projections that share an input stacked into one product), so greedy tokens
 * match it. A prompt is fed whole in the step that admits it: a long prompt makes that step
 * longer for the running rows (no chunked prefill). A request's adapter factors are built by the
 * thread that submits it.
 *
 * <p>Adapters every request uses (a node's shared adapters) can be merged into the weights the
 * steps use ({@link #merge}, {@link MergedAdapters}): a request's adapters are then served relative
 * to them, so a request that uses exactly the merged set costs nothing per token, one that adds its
 * own adapter costs only that adapter, and one that uses fewer (e.g. the bare base model) gets the
 * missing ones' negated factors. A new merge takes effect between two steps; the running and
 * queued requests' sets are rebuilt relative to it there, so no request sees a mix.
 *
 * <p>Native memory: the batch cache and the slots' adapter factors live in the engine's manager
 * (written when a sequence joins, never rebuilt), every step in a sub-manager closed at once.
 */
public final class BatchingEngine implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BatchingEngine.class);

  private final Transformer transformer;
  private final TextTokenizer tokenizer;
  private final List<Integer> defaultStopTokenIds;
  private final int maxBatch;
  private final NDManager manager;
  private final LinkedBlockingDeque<Group> waiting = new LinkedBlockingDeque<>();
  private final Thread thread;
  private volatile boolean closed;

  // engine-thread state
  /** The sequence in each batch slot (null: free); a slot's sequence is running once its prompt was fed. */
  private final Sequence[] slots;
  /** Adapter sets by {@link ActiveAdapters#cacheKey()}: held by queued or running sequences, or idle. Guarded by itself. */
  private final Map<String, SharedSet> sets = new HashMap<>();
  /** The idle sets, least recently used first, and their bytes. Guarded by {@link #sets}. */
  private final Map<String, SharedSet> idle = new java.util.LinkedHashMap<>();
  private long idleBytes;
  private BatchKvCache cache;
  private SlotLora slotLora;
  /** The adapters merged into the weights the steps use; changed by the engine thread only, between steps. */
  private volatile MergedAdapters merged;
  /** A merge built by {@link #merge}, waiting for the engine thread to take it between steps. */
  private final AtomicReference<PendingMerge> pendingMerge = new AtomicReference<>();

  /** At most this many waiting requests join one step, with at most this many prompt tokens in all (a longer prompt goes alone). */
  static final int MAX_PREFILL_GROUPS = 8;
  static final int MAX_PREFILL_TOKENS = 2048;
  /** Bytes of adapter factors kept built while no sequence uses them. */
  static final long IDLE_SET_BYTES = 32L << 20;

  private final AtomicLong steps = new AtomicLong();
  private final AtomicLong rowSteps = new AtomicLong();
  private final AtomicLong prefills = new AtomicLong();
  private final AtomicLong prefillPasses = new AtomicLong();
  private volatile int activeRows;

  public BatchingEngine(Transformer transformer, TextTokenizer tokenizer, List<Integer> defaultStopTokenIds, int maxBatch) {
    if (maxBatch < 1) {
      throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
    }
    this.transformer = transformer;
    this.tokenizer = tokenizer;
    this.defaultStopTokenIds = List.copyOf(defaultStopTokenIds);
    this.maxBatch = maxBatch;
    this.manager = transformer.manager().newSubManager();
    this.slots = new Sequence[maxBatch];
    this.merged = MergedAdapters.none(transformer);
    this.thread = new Thread(this::run, "batching-engine");
    thread.setDaemon(true);
    thread.start();
  }

  /** Generates a continuation of {@code prompt}; the listener is called on the engine thread. */
  public CompletableFuture<GenerationResult> submit(int[] prompt, GenerationRequest request, ActiveAdapters adapters,
      TokenListener listener) {
    return submitGroup(prompt, List.of(request), adapters, java.util.Collections.singletonList(listener)).get(0);
  }

  /**
   * Several generations of one prompt with the same adapters (e.g. greedy + samples), prefilled
   * once; {@code listeners} may be shorter than {@code requests} or hold nulls (no listener).
   *
   * @throws IllegalArgumentException if the prompt is empty or does not fit the context
   */
  public List<CompletableFuture<GenerationResult>> submitGroup(int[] prompt, List<GenerationRequest> requests,
      ActiveAdapters adapters, List<TokenListener> listeners) {
    if (prompt.length == 0) {
      throw new IllegalArgumentException("prompt is empty");
    }
    if (prompt.length >= transformer.contextLength()) {
      throw new IllegalArgumentException("prompt has " + prompt.length + " tokens; the context length is "
          + transformer.contextLength());
    }
    if (requests.size() > maxBatch) {
      throw new IllegalArgumentException(requests.size() + " generations of one prompt do not fit a batch of " + maxBatch);
    }
    if (closed) {
      throw new IllegalStateException("the batching engine is closed");
    }
    ActiveAdapters active = adapters == null ? ActiveAdapters.NONE : adapters;
    // the request's adapter factors are built here, on the caller's thread, not between decode steps
    SharedSet set = reserve(active, requests.size());
    List<Sequence> group = new ArrayList<>();
    for (int i = 0; i < requests.size(); i++) {
      TokenListener l = i < listeners.size() && listeners.get(i) != null ? listeners.get(i) : TokenListener.NONE;
      Sequence seq = new Sequence(prompt.length, requests.get(i), l, active);
      seq.set = set;
      group.add(seq);
    }
    waiting.add(new Group(prompt, set, group));
    return group.stream().map(s -> s.result).toList();
  }

  /**
   * Merges {@code shared} (the adapters every request is expected to use; empty: none) into the
   * weights the steps use, replacing what was merged before. Builds the merged copies on the
   * calling thread; the engine takes them between two steps. Requests keep naming the adapters
   * they use, merged or not: their outputs do not change (up to float rounding), only their cost.
   *
   * @return completed once steps run on the new weights (also when a later merge replaced this one
   *     before it was taken)
   */
  public CompletableFuture<Void> merge(ActiveAdapters shared) {
    if (closed) {
      throw new IllegalStateException("the batching engine is closed");
    }
    if (pendingMerge.get() == null && shared.cacheKey().equals(merged.key())) {
      return CompletableFuture.completedFuture(null); // already the weights the steps use
    }
    PendingMerge next = new PendingMerge(MergedAdapters.of(shared, transformer, manager));
    PendingMerge replaced = pendingMerge.getAndSet(next);
    if (replaced != null) {
      replaced.merged.close();
      replaced.done.complete(null);
    }
    return next.done;
  }

  /** The adapter versions merged into the weights the steps use now ({@code id@version:sha}); empty when none. */
  public List<String> mergedAdapters() {
    return merged.identities();
  }

  /** Sequences being decoded now. */
  public int activeRows() {
    return activeRows;
  }

  /** Requests waiting to be admitted. */
  public int waiting() {
    return waiting.size();
  }

  public int maxBatch() {
    return maxBatch;
  }

  /** Decode steps run so far. */
  public long steps() {
    return steps.get();
  }

  /** Adapter sets kept built while no sequence uses them. */
  public int idleAdapterSets() {
    synchronized (sets) {
      return idle.size();
    }
  }

  /** Prompts prefilled so far. */
  public long prefills() {
    return prefills.get();
  }

  /** Steps that admitted prompts (fewer than {@link #prefills} when requests queued together). */
  public long prefillPasses() {
    return prefillPasses.get();
  }

  /** Mean rows per decode step so far. */
  public double meanBatchSize() {
    long s = steps.get();
    return s == 0 ? 0 : (double) rowSteps.get() / s;
  }

  private void run() {
    try (NoGradScope noGrad = NoGradScope.open()) {
      cache = newCache();
      slotLora = new SlotLora(maxBatch, manager);
      while (!closed) {
        try {
          takeMerge();
          List<Group> admitted = takeWaiting();
          if (cache.taken() == 0 && admitted.isEmpty()) {
            continue;
          }
          step(admitted);
        } catch (InterruptedException e) {
          break;
        } catch (RuntimeException | Error e) {
          LOG.error("batch of {} sequences failed: {}", cache.taken(), e.toString(), e);
          failAll(e);
        }
      }
    } finally {
      CancellationException stopped = new CancellationException("the batching engine was closed");
      failAll(stopped);
      PendingMerge pending = pendingMerge.getAndSet(null);
      if (pending != null) {
        pending.done.completeExceptionally(stopped);
      }
      for (Group g; (g = waiting.poll()) != null; ) {
        g.sequences.forEach(s -> s.result.completeExceptionally(stopped));
      }
    }
  }

  private BatchKvCache newCache() {
    return new BatchKvCache(manager, transformer.config().numHiddenLayers(), transformer.config().numKeyValueHeads(),
        transformer.config().headDim(), maxBatch, transformer.contextLength());
  }

  /**
   * The waiting requests that join the next step: those that queued meanwhile and fit the batch
   * (at most {@link #MAX_PREFILL_GROUPS} prompts of {@link #MAX_PREFILL_TOKENS} tokens in all; a
   * longer prompt goes alone). Waits a little for one when nothing is running.
   */
  private List<Group> takeWaiting() throws InterruptedException {
    int taken = cache.taken();
    Group first = taken == 0 ? waiting.poll(100, TimeUnit.MILLISECONDS) : waiting.peek();
    if (first == null || taken + first.sequences.size() > maxBatch) {
      return List.of(); // next time a row ends
    }
    if (taken > 0) {
      waiting.poll();
    }
    List<Group> together = new ArrayList<>(List.of(first));
    int room = maxBatch - taken - first.sequences.size();
    int tokens = first.prompt.length;
    for (Group g; together.size() < MAX_PREFILL_GROUPS && (g = waiting.peek()) != null && g.sequences.size() <= room
        && tokens + g.prompt.length <= MAX_PREFILL_TOKENS; ) {
      waiting.poll();
      together.add(g);
      room -= g.sequences.size();
      tokens += g.prompt.length;
    }
    return together;
  }

  /**
   * One step: the running rows' next tokens and the admitted requests' prompts in one forward pass.
   * If a step that admits several requests fails, the running rows step on without them and each is
   * retried in a step of its own, so one bad request fails only itself.
   */
  private void step(List<Group> admitted) {
    try {
      runStep(admitted);
    } catch (RuntimeException e) {
      if (admitted.isEmpty()) {
        throw e;
      }
      admitted.forEach(this::vacate);
      LOG.warn("a step admitting {} prompt(s) failed{}: {}", admitted.size(), admitted.size() > 1 ? "; admitting each alone" : "",
          e.toString());
      if (admitted.size() == 1) {
        failGroup(admitted.get(0), e);
        return;
      }
      for (Group g : admitted) {
        try {
          runStep(List.of(g));
        } catch (RuntimeException alone) {
          vacate(g);
          failGroup(g, alone);
        }
      }
    }
  }

  /** Frees the slots a group took for a step that failed. */
  private void vacate(Group g) {
    for (Sequence s : g.sequences) {
      if (s.slot >= 0 && slots[s.slot] == s && !s.running) {
        slots[s.slot] = null;
        cache.release(s.slot);
        s.slot = -1;
      }
    }
  }

  private void runStep(List<Group> admitted) {
    long start = System.nanoTime();
    // the span: slots up to the last running one; the others in it get a placeholder token
    int span = 0;
    for (int i = 0; i < slots.length; i++) {
      if (slots[i] != null && slots[i].running) {
        span = i + 1;
      }
    }
    boolean[] running = new boolean[span];
    List<BatchKvCache.PromptChunk> prompts = new ArrayList<>(admitted.size());
    int n = span;
    for (Group g : admitted) {
      if (g.set.base != merged) { // queued before the merge the steps use now
        rebase(g);
      }
      int reserve = g.prompt.length + g.sequences.stream().mapToInt(s -> s.request.maxTokens()).max().orElse(0);
      int[] taken = cache.take(g.sequences.size(), reserve);
      for (int i = 0; i < taken.length; i++) {
        g.sequences.get(i).slot = taken[i];
        slots[taken[i]] = g.sequences.get(i);
        slotLora.assign(taken[i], g.set.lora); // an empty set zeroes what the slot's last sequence wrote
      }
      prompts.add(new BatchKvCache.PromptChunk(taken[0], g.prompt.length));
      n += g.prompt.length;
    }
    int[] tokens = new int[n];
    int live = 0;
    for (int i = 0; i < span; i++) {
      Sequence s = slots[i];
      running[i] = s != null && s.running;
      if (running[i]) {
        tokens[i] = s.lastToken;
        live++;
      }
    }
    int t = span;
    for (Group g : admitted) {
      System.arraycopy(g.prompt, 0, tokens, t, g.prompt.length);
      t += g.prompt.length;
    }
    float[] logits;
    try (NDManager step = manager.newSubManager()) {
      ProjectionAdapter adapters = adapters(running, admitted, n, step);
      logits = transformer.logits(transformer.step(step.create(tokens).reshape(n, 1), cache, running, prompts, adapters,
          merged.projections())).toFloatArray();
    }
    if (live > 0) {
      steps.incrementAndGet();
      rowSteps.addAndGet(live);
    }
    int vocab = logits.length / (span + admitted.size());
    List<Sequence> ended = new ArrayList<>();
    for (int i = 0; i < span; i++) {
      Sequence s = slots[i];
      if (running[i] && s.accept(java.util.Arrays.copyOfRange(logits, i * vocab, (i + 1) * vocab), cache.position(i))) {
        ended.add(s);
      }
    }
    if (!admitted.isEmpty()) {
      prefills.addAndGet(admitted.size());
      prefillPasses.incrementAndGet();
      for (int i = 0; i < admitted.size(); i++) {
        admit(admitted.get(i), java.util.Arrays.copyOfRange(logits, (span + i) * vocab, (span + i + 1) * vocab), ended);
      }
      LOG.trace("step of {} rows admitted {} prompt(s) in {} µs", live, admitted.size(), (System.nanoTime() - start) / 1000);
    }
    for (Sequence s : ended) {
      slots[s.slot] = null;
      cache.release(s.slot);
    }
    activeRows = live();
    if (cache.taken() == 0) { // idle: nothing shaped by the last batch stays open
      cache.dropViews();
      slotLora.dropViews();
    }
    ended.forEach(this::finish);
  }

  private int live() {
    int n = 0;
    for (Sequence s : slots) {
      n += s != null && s.running ? 1 : 0;
    }
    return n;
  }

  /**
   * The step's adapters, token by token: none when no token has one, the set itself when every
   * token uses the same, else each token's slot's factors ({@link SlotLora}); placeholder tokens
   * and tokens without an adapter get none.
   */
  private ProjectionAdapter adapters(boolean[] running, List<Group> admitted, int tokens, NDManager step) {
    int[] tokenSlots = new int[tokens];
    ConcatenatedLora only = null;
    boolean same = true;
    for (int i = 0; i < running.length; i++) {
      ConcatenatedLora lora = running[i] ? slots[i].set.lora : null;
      tokenSlots[i] = lora == null || lora.isEmpty() ? -1 : i;
      if (lora != null) {
        same &= only == null || only == lora;
        only = only == null ? lora : only;
      }
    }
    int t = running.length;
    for (Group g : admitted) {
      ConcatenatedLora lora = g.set.lora;
      java.util.Arrays.fill(tokenSlots, t, t + g.prompt.length, lora.isEmpty() ? -1 : g.sequences.get(0).slot);
      t += g.prompt.length;
      same &= only == null || only == lora;
      only = only == null ? lora : only;
    }
    if (only == null || same && only.isEmpty() || java.util.Arrays.stream(tokenSlots).allMatch(slot -> slot < 0)) {
      return ProjectionAdapter.NONE;
    }
    if (same) {
      return only.uniform();
    }
    if (admitted.isEmpty()) { // a decode step: token b is slot b
      return slotLora.forSlots(running.length);
    }
    int span = 0;
    for (int slot : tokenSlots) {
      span = Math.max(span, slot + 1);
    }
    return slotLora.forTokens(tokenSlots, span, step);
  }

  /**
   * Samples the first token of each of {@code g}'s sequences from {@code logits} (the prompt's last
   * position): the first sequence's slot holds the prompt the step wrote, the others get a copy. A sequence that ended on its first token goes to
   * {@code ended}.
   */
  private void admit(Group g, float[] logits, List<Sequence> ended) {
    int[] copies = new int[g.sequences.size() - 1];
    for (int i = 0; i < copies.length; i++) {
      copies[i] = g.sequences.get(i + 1).slot;
    }
    cache.copyRow(g.sequences.get(0).slot, copies);
    for (Sequence s : g.sequences) {
      s.running = true;
      s.prefillNanos = System.nanoTime() - s.submitted;
      if (s.accept(logits, g.prompt.length)) {
        ended.add(s);
      }
    }
  }

  private void failGroup(Group g, RuntimeException e) {
    g.sequences.stream().filter(s -> !s.result.isDone()).forEach(s -> {
      release(s);
      s.result.completeExceptionally(e);
    });
  }

  private void finish(Sequence s) {
    release(s);
    s.complete();
  }

  /**
   * The adapter set of {@code adapters}, built on first use and shared by every sequence that uses
   * it; {@code sequences} more of them hold it until each is {@link #release released}. A set no
   * sequence holds stays built while the idle ones fit {@link #IDLE_SET_BYTES} (least recently used
   * go first), so a user's next request does not rebuild it.
   */
  private SharedSet reserve(ActiveAdapters adapters, int sequences) {
    while (true) {
      MergedAdapters base = merged;
      String key = base.serial() + "|" + adapters.cacheKey();
      SharedSet set = hold(key, sequences);
      if (set != null) {
        return set;
      }
      // built outside the lock: the engine thread takes it too, when a sequence ends, and must not wait for a build
      ConcatenatedLora lora = base.residual(adapters, manager);
      if (lora == null) {
        continue; // that merge was replaced and closed meanwhile: relative to the new one
      }
      SharedSet built = new SharedSet(key, base, lora);
      synchronized (sets) {
        if (sets.putIfAbsent(key, built) == null) {
          built.users += sequences;
          return built;
        }
        set = hold(key, sequences); // another request built it meanwhile
      }
      built.lora.close();
      return set;
    }
  }

  /**
   * Engine thread, between steps: takes a pending {@link #merge}. The running sequences' sets are
   * rebuilt relative to it and written into their slots; queued ones are rebuilt when admitted;
   * idle sets relative to the old merge are dropped, and so is the old merge.
   */
  private void takeMerge() {
    PendingMerge next = pendingMerge.getAndSet(null);
    if (next == null) {
      return;
    }
    MergedAdapters old = merged;
    merged = next.merged;
    for (Sequence s : slots) {
      if (s != null) {
        moveToCurrent(s);
        slotLora.assign(s.slot, s.set.lora);
      }
    }
    List<SharedSet> stale = new ArrayList<>();
    synchronized (sets) {
      for (var it = idle.values().iterator(); it.hasNext(); ) {
        SharedSet set = it.next();
        if (set.base != merged) {
          it.remove();
          idleBytes -= set.bytes;
          sets.remove(set.key);
          stale.add(set);
        }
      }
    }
    stale.forEach(set -> set.lora.close());
    old.close(); // waits for a residual being built from it on another thread; later ones are built from the new merge
    LOG.info("merged adapters into the batch weights: {} ({} MiB of copies), was {}", merged.key(),
        merged.sizeBytes() >> 20, old.key());
    next.done.complete(null);
  }

  /** A queued group's set, rebuilt relative to the merge the steps use now. */
  private void rebase(Group g) {
    for (Sequence s : g.sequences) {
      moveToCurrent(s);
    }
    g.set = g.sequences.get(0).set;
  }

  /** Moves {@code s}'s hold to the set of its adapters relative to the current merge. Engine thread. */
  private void moveToCurrent(Sequence s) {
    if (s.set == null || s.set.base == merged) {
      return;
    }
    SharedSet now = reserve(s.adapters, 1);
    release(s);
    s.set = now;
  }

  /** {@code sequences} more holds on the set of {@code key}, if it is built; null otherwise. */
  private SharedSet hold(String key, int sequences) {
    synchronized (sets) {
      SharedSet set = sets.get(key);
      if (set == null) {
        return null;
      }
      if (set.users == 0 && idle.remove(key) != null) {
        idleBytes -= set.bytes;
      }
      set.users += sequences;
      return set;
    }
  }

  /** Drops {@code s}'s hold on its adapter set (once); idle sets beyond the budget are closed. Engine thread only. */
  private void release(Sequence s) {
    SharedSet set = s.set;
    if (set == null) {
      return;
    }
    s.set = null;
    List<SharedSet> evicted = new ArrayList<>();
    synchronized (sets) {
      if (--set.users == 0 && set.base != merged) { // relative to a merge the steps no longer use: never needed again
        sets.remove(set.key, set);
        evicted.add(set);
      } else if (set.users == 0) {
        idle.put(set.key, set);
        idleBytes += set.bytes;
        var it = idle.values().iterator();
        while (idleBytes > IDLE_SET_BYTES && it.hasNext()) {
          SharedSet old = it.next();
          it.remove();
          idleBytes -= old.bytes;
          sets.remove(old.key);
          evicted.add(old);
        }
      }
    }
    evicted.forEach(e -> e.lora.close()); // the slots hold copies of the factors, not these
  }

  private void failAll(Throwable e) {
    for (int i = 0; i < slots.length; i++) {
      Sequence s = slots[i];
      if (s != null) {
        slots[i] = null;
        release(s); // queued requests keep their sets
        s.result.completeExceptionally(e);
      }
    }
    activeRows = 0;
    if (cache != null) {
      cache.close();
      cache = closed ? null : newCache();
    }
    if (slotLora != null) {
      slotLora.close();
      slotLora = closed ? null : new SlotLora(maxBatch, manager);
    }
  }

  /** Stops the engine: running and waiting requests fail with a CancellationException. */
  @Override
  public void close() {
    closed = true;
    thread.interrupt();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    manager.close();
  }

  /** A request waiting to be prefilled; each sequence holds its adapter set from submission. */
  private static final class Group {
    final int[] prompt;
    SharedSet set;
    final List<Sequence> sequences;

    Group(int[] prompt, SharedSet set, List<Sequence> sequences) {
      this.prompt = prompt;
      this.set = set;
      this.sequences = sequences;
    }
  }

  /** A request's adapter set relative to a merge ({@link MergedAdapters#residual}), built once while any row uses it. */
  private static final class SharedSet {
    final String key;
    final MergedAdapters base;
    final ConcatenatedLora lora;
    final long bytes;
    int users;

    SharedSet(String key, MergedAdapters base, ConcatenatedLora lora) {
      this.key = key;
      this.base = base;
      this.lora = lora;
      this.bytes = lora.sizeBytes();
    }
  }

  /** A merge built by a caller, its future completed once the engine took it (or a later one replaced it). */
  private static final class PendingMerge {
    final MergedAdapters merged;
    final CompletableFuture<Void> done = new CompletableFuture<>();

    PendingMerge(MergedAdapters merged) {
      this.merged = merged;
    }
  }

  /** One generation's state; touched only by the engine thread. */
  private final class Sequence {
    final int promptTokens;
    final GenerationRequest request;
    final TokenListener listener;
    final Sampler sampler;
    final TextStream stream;
    final Set<Integer> stops;
    final List<Integer> generated = new ArrayList<>();
    final CompletableFuture<GenerationResult> result = new CompletableFuture<>();
    final long submitted = System.nanoTime();
    /** The adapters the request named (alive while it runs: its caller holds them), to rebuild its set after a merge. */
    final ActiveAdapters adapters;
    long prefillNanos;
    int lastToken;
    FinishReason reason;
    SharedSet set;
    /** The batch slot, once admitted; running once its prompt was fed. */
    int slot = -1;
    boolean running;

    Sequence(int promptTokens, GenerationRequest request, TokenListener listener, ActiveAdapters adapters) {
      this.promptTokens = promptTokens;
      this.adapters = adapters;
      this.request = request;
      this.listener = listener;
      this.sampler = Sampler.of(request);
      this.stream = new TextStream(tokenizer, request.stopStrings());
      this.stops = new HashSet<>(request.stopTokenIds() == null ? defaultStopTokenIds : request.stopTokenIds());
    }

    /**
     * Takes the logits for the token at {@code position} (as {@link Generator} does); returns true
     * when the sequence has ended, false when {@link #lastToken} is to be fed next.
     */
    boolean accept(float[] logits, int position) {
      if (generated.size() >= request.maxTokens()) {
        reason = FinishReason.MAX_TOKENS;
        return true;
      }
      int next = sampler.sample(logits);
      if (stops.contains(next)) {
        reason = FinishReason.STOP_TOKEN;
        return true;
      }
      generated.add(next);
      boolean listening;
      try {
        listening = listener.onToken(next, stream.push(next));
      } catch (RuntimeException e) {
        LOG.warn("token listener failed; ending its sequence: {}", e.toString());
        listening = false;
      }
      if (!listening) {
        reason = FinishReason.CANCELLED;
        return true;
      }
      if (stream.stopped()) {
        reason = FinishReason.STOP_STRING;
        return true;
      }
      if (generated.size() >= request.maxTokens()) {
        reason = FinishReason.MAX_TOKENS;
        return true;
      }
      if (position + 1 >= transformer.contextLength()) {
        reason = FinishReason.CONTEXT_LENGTH;
        return true;
      }
      lastToken = next;
      return false;
    }

    void complete() {
      String remainder = stream.remainder();
      if (!remainder.isEmpty()) {
        try {
          listener.onToken(-1, remainder);
        } catch (RuntimeException e) {
          LOG.warn("token listener failed on the remainder: {}", e.toString());
        }
      }
      long total = System.nanoTime() - submitted;
      result.complete(new GenerationResult(stream.text(), generated.stream().mapToInt(Integer::intValue).toArray(), reason,
          promptTokens, prefillNanos, total - prefillNanos));
    }
  }
}
