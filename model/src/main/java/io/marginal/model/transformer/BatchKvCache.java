package io.marginal.model.transformer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * Keys and values of a running batch, preallocated: per layer one tensor
 * {@code [slots, kvHeads, 2, C, headDim]} (each kv head's keys, then its values), slot {@code s}
 * holding one sequence whose next token goes to position {@code positions[s]}. A
 * sequence takes a free slot when it joins ({@link #take}) and gives it back when it ends
 * ({@link #release}): nothing is moved or copied when the batch's membership changes. The
 * capacity {@code C} grows in steps of {@link #CAPACITY_STEP}.
 *
 * <p>A step ({@link #beginStep}) feeds one token to each of slots {@code [0, span)} and the whole
 * prompt of each {@link PromptChunk} to a slot taken for it, from position 0, in that order along
 * the step's token axis. Every token's keys and values are written in place at its slot and
 * position, one {@code index_put} per layer (no per-step concatenation). The layout keeps a slot's
 * heads evenly spaced, so the keys (or values) of the slots in use are a view that the attention's
 * batched products read without copying. A running slot attends over the first
 * {@code max(position)+1} positions (rounded up to {@link #ATTEND_STEP}) with those past its own
 * masked out, a prompt over itself causally. A slot in the span that runs no sequence this step (free, or taken by a prompt still
 * to be fed) is fed a placeholder whose key and value go to the last position of the capacity,
 * which no sequence reads before writing it, and whose output nobody reads. Owns a sub-manager;
 * closing the cache frees every tensor.
 */
public final class BatchKvCache implements AutoCloseable {
  /** Capacity grows in steps of this many positions. */
  static final int CAPACITY_STEP = 32;
  /**
   * Decode rows attend over the cached positions up to a multiple of this many (those past a row's
   * own are masked), so the views they read stay the same for that many steps instead of being made
   * again in every layer of every step.
   */
  static final int ATTEND_STEP = 16;

  /** The prompt of a sequence admitted into {@code row}: its {@code length} tokens are fed in one step, from position 0. */
  public record PromptChunk(int row, int length) {}

  private final NDManager manager;
  private final int layers;
  private final int kvHeads;
  private final int headDim;
  private final int maxRows;
  private final int maxCapacity;
  /** Per layer {@code [slots, kvHeads, 2, C, headDim]}. */
  private final NDArray[] cached;
  private final boolean[] used;
  private int capacity;
  private final int[] positions;

  // the step being run (between beginStep and endStep)
  private boolean[] running = new boolean[0];
  private List<PromptChunk> chunks = List.of();
  private int[] tokenPositions;
  private NDIndex writeIndex;
  private NDArray attentionMask;
  private int attendLength;
  /** Per layer, the decode rows' key and value views for {@link #viewRows} rows and {@link #viewLength} positions. */
  private final NDArray[][] decodeViews;
  private NDManager viewManager;
  private int viewRows;
  private int viewLength;

  public BatchKvCache(NDManager parent, int layers, int kvHeads, int headDim, int maxRows, int maxCapacity) {
    this.manager = parent.newSubManager();
    this.layers = layers;
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.maxRows = maxRows;
    this.maxCapacity = maxCapacity;
    this.cached = new NDArray[layers];
    this.decodeViews = new NDArray[layers][];
    this.positions = new int[maxRows];
    this.used = new boolean[maxRows];
  }

  /** Slots taken now (running, or taken for a prompt still to be fed). */
  public int taken() {
    int n = 0;
    for (boolean u : used) {
      n += u ? 1 : 0;
    }
    return n;
  }

  public int capacity() {
    return capacity;
  }

  /** Position of row {@code b}'s next token (= tokens it has cached). */
  public int position(int b) {
    return positions[b];
  }

  /**
   * Takes {@code count} free slots, lowest first (empty until a step feeds them a prompt), and
   * makes room for {@code reserve} positions per slot (prompt + tokens still to generate).
   */
  public int[] take(int count, int reserve) {
    int[] out = new int[count];
    int found = 0;
    for (int s = 0; s < maxRows && found < count; s++) {
      if (!used[s]) {
        out[found++] = s;
      }
    }
    if (found < count) {
      throw new IllegalArgumentException(count + " slots wanted, " + found + " free of " + maxRows);
    }
    ensureCapacity(Math.min(reserve, maxCapacity));
    for (int s : out) {
      used[s] = true;
      positions[s] = 0;
    }
    return out;
  }

  /** Gives back slot {@code s}; its keys and values are overwritten by the next sequence that takes it. */
  public void release(int s) {
    used[s] = false;
  }

  /**
   * Copies the cached positions of row {@code from} into rows {@code to} (e.g. the samples of one
   * prompt, prefilled once), which continue from the same position.
   */
  public void copyRow(int from, int[] to) {
    if (to.length == 0) {
      return;
    }
    long[] src = new long[to.length];
    long[] dst = new long[to.length];
    for (int i = 0; i < to.length; i++) {
      src[i] = from;
      dst[i] = to[i];
      positions[to[i]] = positions[from];
    }
    try (NDManager scratch = manager.newSubManager()) { // a gather (a copy), then an in-place write
      NDIndex source = new NDIndex("{}", scratch.create(src));
      NDIndex target = new NDIndex("{}", scratch.create(dst));
      for (NDArray layer : cached) {
        layer.set(target, layer.get(scratch, source));
      }
    }
  }

  private void ensureCapacity(int needed) {
    if (needed <= capacity) {
      return;
    }
    int grown = Math.min(maxCapacity, ((needed + CAPACITY_STEP - 1) / CAPACITY_STEP) * CAPACITY_STEP);
    if (grown < needed) {
      throw new IllegalArgumentException(needed + " positions exceed the context length " + maxCapacity);
    }
    dropViews(); // views of the tensors replaced here
    try (NDManager scratch = manager.newSubManager()) {
      for (int layer = 0; layer < layers; layer++) {
        cached[layer] = widen(scratch, cached[layer], grown);
      }
    }
    capacity = grown;
  }

  private NDArray widen(NDManager scratch, NDArray batch, int grown) {
    NDArray zeros = scratch.zeros(new Shape(maxRows, kvHeads, 2, grown - capacity, headDim));
    NDArray out = batch == null ? zeros : batch.concat(zeros, 3);
    out.attach(manager);
    if (batch != null) {
      batch.close();
    }
    return out;
  }

  /**
   * Prepares a step in {@code step} (the step's manager), shared by all layers: one token for each
   * of slots {@code [0, running.length)}, real for the slots where {@code running} is true and a
   * placeholder for the others, then the prompts of {@code chunks} (slots taken by {@link #take},
   * each fed whole from position 0), in that order along the step's token axis.
   */
  public void beginStep(NDManager step, boolean[] running, List<PromptChunk> chunks) {
    int decodeRows = running.length;
    int tokens = decodeRows;
    int longest = 0;
    for (PromptChunk c : chunks) {
      if (c.row() < 0 || c.row() >= maxRows || !used[c.row()] || c.length() < 1 || c.row() < decodeRows && running[c.row()]) {
        throw new IllegalArgumentException("prompt chunk " + c + " is not in a slot taken for it");
      }
      tokens += c.length();
      longest = Math.max(longest, c.length());
    }
    int attend = 1;
    for (int b = 0; b < decodeRows; b++) {
      if (running[b]) {
        attend = Math.max(attend, positions[b] + 1);
      }
    }
    // the last position is the placeholders': a prompt fed to a slot that is a placeholder in this step must stay below it
    ensureCapacity(Math.max(attend, longest + 1));
    this.running = running.clone();
    this.chunks = List.copyOf(chunks);
    attend = Math.min(capacity, (attend + ATTEND_STEP - 1) / ATTEND_STEP * ATTEND_STEP);
    this.attendLength = attend;
    if (decodeRows != viewRows || attend != viewLength) {
      dropViews();
      viewRows = decodeRows;
      viewLength = attend;
    }
    long[] rowIds = new long[tokens];
    long[] slots = new long[tokens];
    tokenPositions = new int[tokens];
    float[] mask = new float[decodeRows * attend];
    for (int b = 0; b < decodeRows; b++) {
      rowIds[b] = b;
      slots[b] = running[b] ? positions[b] : capacity - 1;
      tokenPositions[b] = running[b] ? positions[b] : 0;
      int sees = running[b] ? positions[b] + 1 : 1;
      java.util.Arrays.fill(mask, b * attend + sees, (b + 1) * attend, -1e9f);
    }
    int t = decodeRows;
    for (PromptChunk c : chunks) {
      for (int p = 0; p < c.length(); p++, t++) {
        rowIds[t] = c.row();
        slots[t] = p;
        tokenPositions[t] = p;
      }
    }
    writeIndex = new NDIndex("{}, :, :, {}", step.create(rowIds), step.create(slots));
    attentionMask = decodeRows == 0 ? null : step.create(mask, new Shape(decodeRows, 1, 1, attend));
  }

  /** Slots fed one token (real or placeholder) this step: the span {@code [0, D)}. */
  public int decodeRows() {
    return running.length;
  }

  /** The prompts fed this step, after the decode rows' tokens. */
  public List<PromptChunk> chunks() {
    return chunks;
  }

  /** Position of each of this step's tokens (decode rows first, then each prompt's). */
  public int[] tokenPositions() {
    return tokenPositions.clone();
  }

  /** The additive mask {@code [D, 1, 1, L]} for the decode rows' scores {@code [D, kv, group, L]}. */
  NDArray attentionMask() {
    return attentionMask;
  }

  /**
   * Writes this step's keys and values {@code kv} ({@code [N, 2·kv, d]}: each token's key heads, then
   * its value heads) for {@code layer} at each token's row and position; returns the decode rows'
   * keys and values to attend over ({@code [D, kv, L, d]} each, views), or null when the step has no
   * decode rows.
   */
  NDArray[] write(int layer, NDArray kv) {
    long n = kv.getShape().get(0);
    cached[layer].set(writeIndex, kv.reshape(n, 2, kvHeads, headDim).transpose(0, 2, 1, 3));
    if (running.length == 0) {
      return null;
    }
    if (decodeViews[layer] == null) {
      if (viewManager == null) {
        viewManager = manager.newSubManager();
      }
      decodeViews[layer] = new NDArray[] {
          cached[layer].get(viewManager, new NDIndex(":{}, :, 0, :{}", running.length, attendLength)),
          cached[layer].get(viewManager, new NDIndex(":{}, :, 1, :{}", running.length, attendLength))};
    }
    return decodeViews[layer];
  }

  /** Closes the views kept between steps (made again by the next step that needs them): for an idle batch. */
  public void dropViews() {
    java.util.Arrays.fill(decodeViews, null);
    if (viewManager != null) {
      viewManager.close();
      viewManager = null;
    }
    viewRows = -1;
  }

  /** The keys and values of {@code chunk}'s prompt in {@code layer} ({@code [kv, length, d]} each), written by this step. */
  NDArray[] chunk(int layer, PromptChunk chunk, NDManager step) {
    return new NDArray[] {
        cached[layer].get(step, new NDIndex("{}, :, 0, :{}", chunk.row(), chunk.length())),
        cached[layer].get(step, new NDIndex("{}, :, 1, :{}", chunk.row(), chunk.length()))};
  }

  /** Ends a step: each running slot has one more cached position, each prompt's slot its prompt. */
  public void endStep() {
    for (int b = 0; b < running.length; b++) {
      if (running[b]) {
        positions[b]++;
      }
    }
    for (PromptChunk c : chunks) {
      positions[c.row()] = c.length();
    }
    writeIndex = null;
    attentionMask = null;
    chunks = List.of();
    running = new boolean[0];
  }

  @Override
  public void close() {
    manager.close();
  }
}
