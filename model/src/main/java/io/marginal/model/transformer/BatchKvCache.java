package io.marginal.model.transformer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * Keys and values of a running batch, preallocated: per layer {@code [B, kvHeads, C, headDim]},
 * row {@code b} holding one sequence whose next token goes to position {@code positions[b]}.
 * A decode step writes each row's new key and value at its own position in place of the
 * preallocated slot (no per-step concatenation), and attends over the first
 * {@code max(position)+1} slots with positions past each row's own masked out.
 *
 * <p>Rows are admitted from a single-sequence prefill ({@link #admit}) and dropped when their
 * sequence ends ({@link #keep}); both are whole-batch operations done between steps, never per
 * step. Owns a sub-manager; closing the cache frees every tensor.
 */
public final class BatchKvCache implements AutoCloseable {
  /** Capacity grows in steps of this many positions. */
  static final int CAPACITY_STEP = 32;

  private final NDManager manager;
  private final int layers;
  private final int kvHeads;
  private final int headDim;
  private final int maxCapacity;
  private NDArray[] keys;
  private NDArray[] values;
  private int rows;
  private int capacity;
  private int[] positions = new int[0];
  /** This step's write index (row {@code b} writes slot {@code positions[b]}) and additive attention mask {@code [B, 1, 1, 1, L]}. */
  private NDIndex writeIndex;
  private NDArray attentionMask;
  private int attendLength;

  public BatchKvCache(NDManager parent, int layers, int kvHeads, int headDim, int maxCapacity) {
    this.manager = parent.newSubManager();
    this.layers = layers;
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.maxCapacity = maxCapacity;
    this.keys = new NDArray[layers];
    this.values = new NDArray[layers];
  }

  public int rows() {
    return rows;
  }

  public int capacity() {
    return capacity;
  }

  /** Position of row {@code b}'s next token (= tokens it has cached). */
  public int position(int b) {
    return positions[b];
  }

  /**
   * Appends {@code copies} rows that continue the single sequence in {@code prefilled}
   * ({@code [1, kv, T, d]} per layer), e.g. several samples of one prompt; makes room for
   * {@code reserve} positions per row (prompt + tokens still to generate).
   */
  public void admit(KvCache prefilled, int copies, int reserve) {
    admit(prefilled, 0, prefilled.length(), copies, reserve);
  }

  /**
   * Appends {@code copies} rows that continue row {@code row} of a batched prefill, whose prompt
   * is its first {@code length} positions (the rest is padding, dropped here).
   */
  public void admit(KvCache prefilled, int row, int length, int copies, int reserve) {
    if (length < 1 || length > prefilled.length()) {
      throw new IllegalArgumentException("row length " + length + " outside 1.." + prefilled.length());
    }
    ensureCapacity(Math.max(length, Math.min(reserve, maxCapacity)));
    boolean whole = row == 0 && length == prefilled.length() && prefilled.keys(0).getShape().get(0) == 1;
    NDIndex mine = new NDIndex("{}:{}, :, :{}, :", row, row + 1, length);
    for (int layer = 0; layer < layers; layer++) {
      keys[layer] = appendRows(keys[layer], whole ? prefilled.keys(layer) : prefilled.keys(layer).get(mine), copies);
      values[layer] = appendRows(values[layer], whole ? prefilled.values(layer) : prefilled.values(layer).get(mine), copies);
    }
    int[] grown = java.util.Arrays.copyOf(positions, rows + copies);
    java.util.Arrays.fill(grown, rows, rows + copies, length);
    positions = grown;
    rows += copies;
  }

  private NDArray appendRows(NDArray batch, NDArray sequence, int copies) {
    NDArray padded = sequence;
    long t = sequence.getShape().get(2);
    if (t < capacity) {
      // intermediates stay in the prefill's manager, which the caller closes
      padded = sequence.concat(sequence.getManager().zeros(new Shape(1, kvHeads, capacity - t, headDim), sequence.getDataType()), 2);
    }
    NDArray repeated = copies == 1 ? padded : padded.repeat(0, copies);
    NDArray out = batch == null ? repeated.duplicate() : batch.concat(repeated, 0);
    out.attach(manager);
    if (batch != null) {
      batch.close();
    }
    return out;
  }

  /** Keeps only the rows {@code kept} (ascending), in that order: ended sequences leave the batch. */
  public void keep(int[] kept) {
    if (kept.length == rows) {
      return;
    }
    if (kept.length == 0) {
      clear();
      return;
    }
    float[] select = new float[kept.length * rows];
    for (int i = 0; i < kept.length; i++) {
      select[i * rows + kept[i]] = 1f;
    }
    try (NDManager scratch = manager.newSubManager()) {
      NDArray selector = scratch.create(select, new Shape(kept.length, rows));
      for (int layer = 0; layer < layers; layer++) {
        keys[layer] = gather(scratch, selector, keys[layer], kept.length);
        values[layer] = gather(scratch, selector, values[layer], kept.length);
      }
    }
    int[] p = new int[kept.length];
    for (int i = 0; i < kept.length; i++) {
      p[i] = positions[kept[i]];
    }
    positions = p;
    rows = kept.length;
  }

  /** Row selection as a 0/1 matrix product: exact (each output row is one input row times 1). */
  private NDArray gather(NDManager scratch, NDArray selector, NDArray batch, int newRows) {
    Shape shape = batch.getShape();
    NDArray flat = batch.reshape(shape.get(0), -1);
    flat.attach(scratch);
    NDArray out = selector.matMul(flat).reshape(newRows, shape.get(1), shape.get(2), shape.get(3));
    out.attach(manager);
    batch.close();
    return out;
  }

  private void ensureCapacity(int needed) {
    if (needed <= capacity) {
      return;
    }
    int grown = Math.min(maxCapacity, ((needed + CAPACITY_STEP - 1) / CAPACITY_STEP) * CAPACITY_STEP);
    if (grown < needed) {
      throw new IllegalArgumentException(needed + " positions exceed the context length " + maxCapacity);
    }
    if (rows > 0) {
      try (NDManager scratch = manager.newSubManager()) {
        for (int layer = 0; layer < layers; layer++) {
          keys[layer] = widen(scratch, keys[layer], grown);
          values[layer] = widen(scratch, values[layer], grown);
        }
      }
    }
    capacity = grown;
  }

  private NDArray widen(NDManager scratch, NDArray batch, int grown) {
    NDArray out = batch.concat(scratch.zeros(new Shape(rows, kvHeads, grown - capacity, headDim), batch.getDataType()), 2);
    out.attach(manager);
    batch.close();
    return out;
  }

  /**
   * Prepares the next decode step, in which every row writes one token at its own position:
   * builds the write and attention masks in {@code step} (the step's manager), shared by all layers.
   */
  public void beginStep(NDManager step) {
    int longest = 0;
    for (int b = 0; b < rows; b++) {
      longest = Math.max(longest, positions[b] + 1);
    }
    ensureCapacity(longest);
    attendLength = longest;
    long[] rowIds = new long[rows];
    long[] slots = new long[rows];
    float[] mask = new float[rows * longest];
    for (int b = 0; b < rows; b++) {
      rowIds[b] = b;
      slots[b] = positions[b];
      for (int j = positions[b] + 1; j < longest; j++) {
        mask[b * longest + j] = -1e9f;
      }
    }
    writeIndex = new NDIndex("{}, :, {}, :", step.create(rowIds), step.create(slots));
    attentionMask = step.create(mask, new Shape(rows, 1, 1, 1, longest));
  }

  /** Row positions of the step being prepared (each row's new token). */
  public int[] positions() {
    return positions.clone();
  }

  /** The additive mask {@code [B, 1, 1, 1, L]} for this step's scores {@code [B, kv, group, 1, L]}. */
  NDArray attentionMask() {
    return attentionMask;
  }

  /** Writes this step's {@code k, v} ({@code [B, kv, 1, d]}) for {@code layer}; returns the keys and values to attend over. */
  NDArray[] write(int layer, NDArray k, NDArray v) {
    keys[layer] = place(keys[layer], k);
    values[layer] = place(values[layer], v);
    NDIndex attended = new NDIndex(":, :, :{}, :", attendLength);
    NDManager step = k.getManager();
    return new NDArray[] {keys[layer].get(step, attended), values[layer].get(step, attended)};
  }

  /** Writes each row's {@code [kv, 1, d]} slice in place at its own position (index_put: O(B), not a copy of the cache). */
  private NDArray place(NDArray cached, NDArray step) {
    cached.set(writeIndex, step.squeeze(2));
    return cached;
  }

  /** Ends a step: every row has one more cached position. */
  public void endStep() {
    for (int b = 0; b < rows; b++) {
      positions[b]++;
    }
    writeIndex = null;
    attentionMask = null;
  }

  private void clear() {
    for (int layer = 0; layer < layers; layer++) {
      if (keys[layer] != null) {
        keys[layer].close();
        values[layer].close();
      }
    }
    keys = new NDArray[layers];
    values = new NDArray[layers];
    positions = new int[0];
    rows = 0;
    capacity = 0;
  }

  @Override
  public void close() {
    manager.close();
  }
}
