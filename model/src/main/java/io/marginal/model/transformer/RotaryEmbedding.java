package io.marginal.model.transformer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.marginal.model.config.ModelConfig;
import java.util.Arrays;

/**
 * Rotary position embedding in the Hugging Face Llama layout ("rotate half"): dimension {@code j}
 * and {@code j + d/2} of a head form one rotating pair with frequency
 * {@code theta^(-2j/d)}, optionally rescaled the llama3 way.
 */
public final class RotaryEmbedding {
  /** Tables are built up to this many positions at most (memory), or the model's limit if smaller. */
  public static final int MAX_TABLE_POSITIONS = 16384;
  /** Up to this many consecutive positions, {@link #tables} makes rotation tables on the Java heap. */
  static final int JAVA_TABLE_POSITIONS = 64;

  private final int headDim;
  private final int positions;
  private final NDArray cos;
  private final NDArray sin;
  /** The same tables on the Java heap, for per-row positions in a batched decode step. */
  private final float[] cosTable;
  private final float[] sinTable;
  /** {@code P} with {@code x·P = rotate_half(x) = [-x2, x1]}. */
  private final NDArray rotateHalf;

  public RotaryEmbedding(ModelConfig config, NDManager manager) {
    this.headDim = config.headDim();
    this.positions = Math.min(config.maxPositionEmbeddings(), MAX_TABLE_POSITIONS);
    double[] inv = inverseFrequencies(config);
    int half = headDim / 2;
    float[] c = new float[positions * headDim];
    float[] s = new float[positions * headDim];
    for (int pos = 0; pos < positions; pos++) {
      for (int j = 0; j < headDim; j++) {
        double angle = pos * inv[j % half];
        c[pos * headDim + j] = (float) Math.cos(angle);
        s[pos * headDim + j] = (float) Math.sin(angle);
      }
    }
    this.cosTable = c;
    this.sinTable = s;
    this.cos = manager.create(c, new Shape(positions, headDim));
    this.sin = manager.create(s, new Shape(positions, headDim));
    float[] p = new float[headDim * headDim];
    for (int i = 0; i < half; i++) {
      p[(i + half) * headDim + i] = -1f; // column i < h takes -x[i+h]
      p[i * headDim + i + half] = 1f; // column i+h takes x[i]
    }
    this.rotateHalf = manager.create(p, new Shape(headDim, headDim));
  }

  /** {@code theta^(-2j/d)} for {@code j < d/2}, with llama3 or linear scaling applied when configured. */
  public static double[] inverseFrequencies(ModelConfig config) {
    int half = config.headDim() / 2;
    double[] inv = new double[half];
    for (int j = 0; j < half; j++) {
      inv[j] = 1.0 / Math.pow(config.ropeTheta(), (2.0 * j) / config.headDim());
    }
    ModelConfig.RopeScaling rs = config.ropeScaling();
    if (rs != null && rs.type().equals(ModelConfig.RopeScaling.LINEAR)) {
      for (int j = 0; j < half; j++) {
        inv[j] = inv[j] / rs.factor();
      }
    } else if (rs != null) {
      double lowWavelen = rs.originalMaxPositionEmbeddings() / rs.lowFreqFactor();
      double highWavelen = rs.originalMaxPositionEmbeddings() / rs.highFreqFactor();
      for (int j = 0; j < half; j++) {
        double wavelen = 2 * Math.PI / inv[j];
        if (wavelen > lowWavelen) {
          inv[j] = inv[j] / rs.factor();
        } else if (wavelen >= highWavelen) {
          double smooth = (rs.originalMaxPositionEmbeddings() / wavelen - rs.lowFreqFactor())
              / (rs.highFreqFactor() - rs.lowFreqFactor());
          inv[j] = (1 - smooth) * inv[j] / rs.factor() + smooth * inv[j];
        }
      }
    }
    return inv;
  }

  /** Number of positions the tables cover (the usable context length). */
  public int positions() {
    return positions;
  }

  /** Rotates {@code x} of shape {@code [B, heads, T, headDim]} whose first token sits at {@code startPos}. */
  public NDArray apply(NDArray x, int startPos) {
    int t = (int) x.getShape().get(2);
    if (startPos + t > positions) {
      throw new IllegalArgumentException("position " + (startPos + t) + " exceeds the context length " + positions);
    }
    NDManager m = x.getManager();
    NDIndex rows = new NDIndex("{}:{}", startPos, startPos + t);
    NDArray c = cos.get(m, rows);
    NDArray s = sin.get(m, rows);
    int half = headDim / 2;
    NDArray x1 = x.get(new NDIndex("..., :{}", half));
    NDArray x2 = x.get(new NDIndex("..., {}:", half));
    NDArray rotated = x2.neg().concat(x1, -1);
    return x.mul(c).add(rotated.mul(s));
  }

  /**
   * {@link #rowTables} for any {@code positions}, without a Java array of {@code positions × heads ×
   * headDim} values when there are many: a run of more than {@link #JAVA_TABLE_POSITIONS}
   * consecutive positions (a prompt, a forward pass over a sequence) is built natively
   * ({@link #rangeTables}), the other positions together on the Java heap (cheaper for a few:
   * ~10-20 µs against ~30), the parts joined in order. The same values either way.
   */
  public NDArray[] tables(NDManager manager, int[] positions, int rotated, int passed) {
    if (positions.length <= JAVA_TABLE_POSITIONS) {
      return rowTables(manager, positions, rotated, passed);
    }
    NDList cos = new NDList();
    NDList sin = new NDList();
    int pendingFrom = 0; // positions not yet in a part, from here up to the current run
    int i = 0;
    while (i < positions.length) {
      int end = i + 1;
      while (end < positions.length && positions[end] == positions[end - 1] + 1) {
        end++;
      }
      if (end - i > JAVA_TABLE_POSITIONS) {
        addPart(cos, sin, pendingFrom < i ? rowTables(manager, Arrays.copyOfRange(positions, pendingFrom, i), rotated, passed) : null);
        addPart(cos, sin, rangeTables(manager, positions[i], end - i, rotated, passed));
        pendingFrom = end;
      }
      i = end;
    }
    addPart(cos, sin, pendingFrom < positions.length
        ? rowTables(manager, Arrays.copyOfRange(positions, pendingFrom, positions.length), rotated, passed) : null);
    return new NDArray[] {cos.size() == 1 ? cos.head() : NDArrays.concat(cos, 0), sin.size() == 1 ? sin.head() : NDArrays.concat(sin, 0),
        rotateHalf};
  }

  private static void addPart(NDList cos, NDList sin, NDArray[] part) {
    if (part != null) {
      cos.add(part[0]);
      sin.add(part[1]);
    }
  }

  /**
   * The rotation of one batch step, where token {@code b} sits at {@code positions[b]}: for each
   * token, {@code rotated} heads with its position's cos and sin rows followed by {@code passed}
   * heads that are not rotated (cos 1, sin 0: e.g. the values, when a step rotates a projection's
   * whole output {@code q|k|v} at once), as {@code [B, rotated + passed, headDim]}, made once per
   * step and shared by every layer; and the fixed matrix {@code P} with
   * {@code x·P = rotate_half(x)} (one signed 1 per column, so the product is exact). {@link
   * #applyRows} is then {@code x⊙cos + (x·P)⊙sin}: four operations, all plain products over the
   * whole batch (the product by {@code P} one matrix product over every head of every token), the
   * arithmetic of {@link #apply} element for element; a passed head comes out unchanged.
   */
  public NDArray[] rowTables(NDManager manager, int[] positions, int rotated, int passed) {
    int d = headDim;
    int heads = rotated + passed;
    float[] c = new float[positions.length * heads * d];
    float[] s = new float[positions.length * heads * d];
    for (int b = 0; b < positions.length; b++) {
      if (positions[b] >= this.positions) {
        throw new IllegalArgumentException("position " + positions[b] + " exceeds the context length " + this.positions);
      }
      int row = b * heads * d;
      for (int h = 0; h < rotated; h++) {
        System.arraycopy(cosTable, positions[b] * d, c, row + h * d, d);
        System.arraycopy(sinTable, positions[b] * d, s, row + h * d, d);
      }
      Arrays.fill(c, row + rotated * d, row + heads * d, 1f);
    }
    Shape shape = new Shape(positions.length, heads, d);
    return new NDArray[] {manager.create(c, shape), manager.create(s, shape), rotateHalf};
  }

  /**
   * {@link #rowTables} for the consecutive positions {@code startPos .. startPos + t - 1} (a forward
   * pass over a sequence), as {@code [t, rotated + passed, headDim]}, made from the position tables
   * already in native memory: no Java array of {@code t × heads × headDim} values per call (a long
   * prompt of a large checkpoint would need hundreds of MB), and the same values.
   */
  public NDArray[] rangeTables(NDManager manager, int startPos, int t, int rotated, int passed) {
    if (startPos + t > positions) {
      throw new IllegalArgumentException("position " + (startPos + t) + " exceeds the context length " + positions);
    }
    NDIndex rows = new NDIndex("{}:{}", startPos, startPos + t);
    Shape turning = new Shape(t, rotated, headDim);
    Shape still = new Shape(t, passed, headDim);
    NDArray c = cos.get(manager, rows).expandDims(1).broadcast(turning);
    NDArray s = sin.get(manager, rows).expandDims(1).broadcast(turning);
    if (passed > 0) {
      c = c.concat(manager.ones(still), 1);
      s = s.concat(manager.zeros(still), 1);
    }
    return new NDArray[] {c, s, rotateHalf};
  }

  /** Rotates {@code x} {@code [B, heads, headDim]}, token {@code b} at its own position, with the tables from {@link #rowTables}. */
  public NDArray applyRows(NDArray x, NDArray[] tables) {
    return x.mul(tables[0]).add(x.matMul(tables[2]).mul(tables[1]));
  }
}
