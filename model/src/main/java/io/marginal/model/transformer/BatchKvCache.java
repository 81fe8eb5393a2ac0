package io.marginal.model.transformer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.List;

/**
 * Keys and values of a running batch, preallocated: per layer {@code [maxRows, kvHeads, C, headDim]},
 * row {@code b} holding one sequence whose next token goes to position {@code positions[b]}. Rows
 * {@code [0, rows)} are in use; the capacity {@code C} grows in steps of {@link #CAPACITY_STEP}.
 *
 * <p>A step ({@link #beginStep}) feeds one token to each of the first {@code decodeRows} rows at
 * its own position, and the whole prompt of each {@link PromptChunk} to a row admitted for it
 * ({@link #addRows}), from position 0. Every token's key and value is written in place at its
 * row and position ({@code index_put}: no per-step concatenation); decode rows attend over the
 * first {@code max(position)+1} slots with positions past their own masked out, a prompt over its
 * own row causally. Rows leave when their sequence ends ({@link #keep}, a compaction between
 * steps). Owns a sub-manager; closing the cache frees every tensor.
 */
public final class BatchKvCache implements AutoCloseable {
  /** Capacity grows in steps of this many positions. */
  static final int CAPACITY_STEP = 32;

  /** The prompt of a sequence admitted into {@code row}: its {@code length} tokens are fed in one step, from position 0. */
  public record PromptChunk(int row, int length) {}

  private final NDManager manager;
  private final int layers;
  private final int kvHeads;
  private final int headDim;
  private final int maxRows;
  private final int maxCapacity;
  private final NDArray[] keys;
  private final NDArray[] values;
  private int rows;
  private int capacity;
  private final int[] positions;

  // the step being run (between beginStep and endStep)
  private int decodeRows;
  private List<PromptChunk> chunks = List.of();
  private int[] tokenPositions;
  private NDIndex writeIndex;
  private NDArray attentionMask;
  private int attendLength;

  public BatchKvCache(NDManager parent, int layers, int kvHeads, int headDim, int maxRows, int maxCapacity) {
    this.manager = parent.newSubManager();
    this.layers = layers;
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.maxRows = maxRows;
    this.maxCapacity = maxCapacity;
    this.keys = new NDArray[layers];
    this.values = new NDArray[layers];
    this.positions = new int[maxRows];
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
   * Takes {@code count} more rows (empty until a step feeds them a prompt) and makes room for
   * {@code reserve} positions per row (prompt + tokens still to generate).
   *
   * @return the first new row
   */
  public int addRows(int count, int reserve) {
    if (rows + count > maxRows) {
      throw new IllegalArgumentException(rows + " + " + count + " rows exceed the batch's " + maxRows);
    }
    ensureCapacity(Math.min(reserve, maxCapacity));
    int first = rows;
    Arrays.fill(positions, first, first + count, 0);
    rows += count;
    return first;
  }

  /** Gives back the rows from {@code from} on (e.g. the rows of prompts whose step failed). */
  public void truncate(int from) {
    rows = Math.min(rows, from);
  }

  /** Keeps only the rows {@code kept} (ascending), in that order: ended sequences leave the batch. */
  public void keep(int[] kept) {
    if (kept.length == rows) {
      return;
    }
    boolean prefix = true;
    for (int i = 0; i < kept.length; i++) {
      prefix &= kept[i] == i;
    }
    if (!prefix) {
      move(kept, 0);
    }
    for (int i = 0; i < kept.length; i++) {
      positions[i] = positions[kept[i]];
    }
    rows = kept.length;
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
    copy(src, dst);
  }

  /** Rows {@code sources} (ascending) to rows {@code first, first+1, ...}. */
  private void move(int[] sources, int first) {
    long[] src = new long[sources.length];
    long[] dst = new long[sources.length];
    for (int i = 0; i < sources.length; i++) {
      src[i] = sources[i];
      dst[i] = first + i;
    }
    copy(src, dst);
  }

  /** Row {@code src[i]} to row {@code dst[i]} in every layer: a gather (a copy, so rows may overlap), then an in-place write. */
  private void copy(long[] src, long[] dst) {
    try (NDManager scratch = manager.newSubManager()) {
      NDIndex source = new NDIndex("{}", scratch.create(src));
      NDIndex target = new NDIndex("{}", scratch.create(dst));
      for (int layer = 0; layer < layers; layer++) {
        keys[layer].set(target, keys[layer].get(scratch, source));
        values[layer].set(target, values[layer].get(scratch, source));
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
    try (NDManager scratch = manager.newSubManager()) {
      for (int layer = 0; layer < layers; layer++) {
        keys[layer] = widen(scratch, keys[layer], grown);
        values[layer] = widen(scratch, values[layer], grown);
      }
    }
    capacity = grown;
  }

  private NDArray widen(NDManager scratch, NDArray batch, int grown) {
    NDArray zeros = scratch.zeros(new Shape(maxRows, kvHeads, grown - capacity, headDim));
    NDArray out = batch == null ? zeros : batch.concat(zeros, 2);
    out.attach(manager);
    if (batch != null) {
      batch.close();
    }
    return out;
  }

  /**
   * Prepares a step in {@code step} (the step's manager), shared by all layers: one token for each
   * of rows {@code [0, decodeRows)}, then the prompts of {@code chunks} (rows taken by {@link
   * #addRows}, each fed whole from position 0), in that order along the step's token axis.
   */
  public void beginStep(NDManager step, int decodeRows, List<PromptChunk> chunks) {
    if (decodeRows < 0 || decodeRows > rows) {
      throw new IllegalArgumentException(decodeRows + " decode rows of " + rows);
    }
    int tokens = decodeRows;
    int longest = 0;
    for (PromptChunk c : chunks) {
      if (c.row() < decodeRows || c.row() >= rows || c.length() < 1) {
        throw new IllegalArgumentException("prompt chunk " + c + " outside the admitted rows " + decodeRows + ".." + rows);
      }
      tokens += c.length();
      longest = Math.max(longest, c.length());
    }
    int attend = 0;
    for (int b = 0; b < decodeRows; b++) {
      attend = Math.max(attend, positions[b] + 1);
    }
    ensureCapacity(Math.max(attend, longest));
    this.decodeRows = decodeRows;
    this.chunks = List.copyOf(chunks);
    this.attendLength = attend;
    long[] rowIds = new long[tokens];
    long[] slots = new long[tokens];
    tokenPositions = new int[tokens];
    float[] mask = new float[decodeRows * attend];
    for (int b = 0; b < decodeRows; b++) {
      rowIds[b] = b;
      slots[b] = positions[b];
      tokenPositions[b] = positions[b];
      for (int j = positions[b] + 1; j < attend; j++) {
        mask[b * attend + j] = -1e9f;
      }
    }
    int t = decodeRows;
    for (PromptChunk c : chunks) {
      for (int p = 0; p < c.length(); p++, t++) {
        rowIds[t] = c.row();
        slots[t] = p;
        tokenPositions[t] = p;
      }
    }
    writeIndex = new NDIndex("{}, :, {}, :", step.create(rowIds), step.create(slots));
    attentionMask = decodeRows == 0 ? null : step.create(mask, new Shape(decodeRows, 1, 1, attend));
  }

  /** Rows fed one token this step. */
  public int decodeRows() {
    return decodeRows;
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
   * Writes this step's {@code k, v} ({@code [N, kv, 1, d]}, one per token) for {@code layer} at
   * each token's row and position; returns the decode rows' keys and values to attend over
   * ({@code [D, kv, L, d]}), or null when the step has no decode rows.
   */
  NDArray[] write(int layer, NDArray k, NDArray v) {
    keys[layer].set(writeIndex, k.squeeze(2));
    values[layer].set(writeIndex, v.squeeze(2));
    if (decodeRows == 0) {
      return null;
    }
    NDIndex attended = new NDIndex(":{}, :, :{}, :", decodeRows, attendLength);
    NDManager step = k.getManager();
    return new NDArray[] {keys[layer].get(step, attended), values[layer].get(step, attended)};
  }

  /** The keys and values of {@code chunk}'s prompt in {@code layer} ({@code [kv, length, d]}), written by this step. */
  NDArray[] chunk(int layer, PromptChunk chunk, NDManager step) {
    NDIndex mine = new NDIndex("{}, :, :{}, :", chunk.row(), chunk.length());
    return new NDArray[] {keys[layer].get(step, mine), values[layer].get(step, mine)};
  }

  /** Ends a step: each decode row has one more cached position, each prompt row its prompt. */
  public void endStep() {
    for (int b = 0; b < decodeRows; b++) {
      positions[b]++;
    }
    for (PromptChunk c : chunks) {
      positions[c.row()] = c.length();
    }
    writeIndex = null;
    attentionMask = null;
    chunks = List.of();
    decodeRows = 0;
  }

  @Override
  public void close() {
    manager.close();
  }
}
