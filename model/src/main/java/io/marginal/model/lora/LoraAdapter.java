package io.marginal.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import io.marginal.model.config.ModelConfig;
import io.marginal.model.training.Scalars;
import io.marginal.model.weights.Projection;
import io.marginal.model.weights.SafetensorsWriter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A LoRA adapter: for each adapted projection, {@code A [r, in]} and {@code B [out, r]}, and
 * optionally a neuron mask {@code m [out]} (0/1). The update to the projection's output is
 *
 * <pre>  delta = scaling * (dropout(x) · Aᵀ · Bᵀ) ⊙ m</pre>
 *
 * so a masked adapter can only move the masked output neurons. Identity is {@link #id()},
 * {@link #version()} and {@link #sha256()}, the hash of its PEFT safetensors bytes (mask baked
 * into B), so two adapters with equal tensors have equal hashes.
 *
 * <p>Owns its tensors (closing frees them). Read-only while served; train it only where no
 * request uses it, then call {@link #contentChanged()} (the optimizer does).
 */
public final class LoraAdapter implements AutoCloseable {
  private final String id;
  private final long version;
  private final LoraConfig config;
  private final NDManager manager;
  private final SortedMap<LoraTarget, NDArray> a = new TreeMap<>();
  private final SortedMap<LoraTarget, NDArray> b = new TreeMap<>();
  private final SortedMap<LoraTarget, NDArray> masks = Collections.synchronizedSortedMap(new TreeMap<>());
  private final float scaling;
  private volatile AdapterMetadata metadata = AdapterMetadata.EMPTY;
  private volatile String sha256;

  private LoraAdapter(String id, long version, LoraConfig config, NDManager manager) {
    this.id = id;
    this.version = version;
    this.config = config;
    this.manager = manager;
    this.scaling = (float) config.scaling();
  }

  /**
   * A fresh adapter for {@code base}: A drawn like PEFT's default (Kaiming-uniform, bound
   * {@code 1/sqrt(in)}) from a seeded Java random, B zero, so it starts as a no-op.
   */
  public static LoraAdapter create(String id, long version, ModelConfig base, LoraConfig config, NDManager parent, long seed) {
    LoraAdapter adapter = new LoraAdapter(id, version, config, parent.newSubManager());
    Random random = new Random(seed);
    for (int layer = 0; layer < base.numHiddenLayers(); layer++) {
      if (!config.appliesTo(layer)) {
        continue;
      }
      for (Projection p : Projection.values()) {
        if (!config.targets().contains(p)) {
          continue;
        }
        int in = p.inFeatures(base);
        float bound = (float) (1.0 / Math.sqrt(in));
        float[] values = new float[config.rank() * in];
        for (int i = 0; i < values.length; i++) {
          values[i] = (random.nextFloat() * 2 - 1) * bound;
        }
        LoraTarget t = new LoraTarget(layer, p);
        adapter.a.put(t, adapter.manager.create(values, new Shape(config.rank(), in)));
        adapter.b.put(t, adapter.manager.zeros(new Shape(p.outFeatures(base), config.rank())));
      }
    }
    return adapter;
  }

  /** An adapter from given tensors (copied into its own manager); used by the PEFT reader. */
  public static LoraAdapter fromTensors(String id, long version, LoraConfig config, Map<LoraTarget, NDArray> aTensors,
      Map<LoraTarget, NDArray> bTensors, NDManager parent) {
    LoraAdapter adapter = new LoraAdapter(id, version, config, parent.newSubManager());
    aTensors.forEach((t, x) -> adapter.a.put(t, adapter.own(x)));
    bTensors.forEach((t, x) -> adapter.b.put(t, adapter.own(x)));
    return adapter;
  }

  private NDArray own(NDArray x) {
    NDArray copy = x.duplicate();
    copy.attach(manager);
    return copy;
  }

  public String id() {
    return id;
  }

  public long version() {
    return version;
  }

  public LoraConfig config() {
    return config;
  }

  public AdapterMetadata metadata() {
    return metadata;
  }

  public void setMetadata(AdapterMetadata metadata) {
    this.metadata = metadata == null ? AdapterMetadata.EMPTY : metadata;
  }

  /** Adapted projections, in (layer, projection) order. */
  public List<LoraTarget> targets() {
    return List.copyOf(a.keySet());
  }

  public NDArray loraA(LoraTarget t) {
    return a.get(t);
  }

  public NDArray loraB(LoraTarget t) {
    return b.get(t);
  }

  /**
   * Confines the update of {@code target} to the output neurons set in {@code neurons}
   * (length = the projection's output width). {@code null} removes the mask.
   */
  public void setMask(LoraTarget target, boolean[] neurons) {
    if (!a.containsKey(target)) {
      throw new IllegalArgumentException("adapter " + id + " has no LoRA on " + target.key());
    }
    if (neurons == null) {
      NDArray old = masks.remove(target);
      if (old != null) {
        old.close();
      }
    } else {
      long out = b.get(target).getShape().get(0);
      if (neurons.length != out) {
        throw new IllegalArgumentException("mask for " + target.key() + " has " + neurons.length
            + " entries, the projection has " + out + " output neurons");
      }
      float[] m = new float[neurons.length];
      for (int i = 0; i < m.length; i++) {
        m[i] = neurons[i] ? 1f : 0f;
      }
      NDArray old = masks.put(target, manager.create(m));
      if (old != null) {
        old.close();
      }
    }
    contentChanged();
  }

  /** The neuron mask of {@code target} as booleans, if it has one. */
  public Optional<boolean[]> mask(LoraTarget target) {
    NDArray m = masks.get(target);
    if (m == null) {
      return Optional.empty();
    }
    float[] f = m.toFloatArray();
    boolean[] out = new boolean[f.length];
    for (int i = 0; i < f.length; i++) {
      out[i] = f[i] != 0f;
    }
    return Optional.of(out);
  }

  /** Targets that have a mask. */
  public List<LoraTarget> maskedTargets() {
    synchronized (masks) {
      return List.copyOf(masks.keySet());
    }
  }

  /** The update for {@code projection} in {@code layer}, or {@code null} if this adapter does not touch it. */
  public NDArray delta(int layer, Projection projection, NDArray input, boolean training) {
    LoraTarget t = new LoraTarget(layer, projection);
    NDArray loraA = a.get(t);
    if (loraA == null) {
      return null;
    }
    NDArray x = training && config.dropout() > 0 ? Dropout.dropout(input, (float) config.dropout(), true).head() : input;
    NDArray update = Linear.linear(Linear.linear(x, loraA).head(), b.get(t)).head();
    update = Scalars.mul(update, scaling);
    NDArray mask = masks.get(t);
    return mask == null ? update : update.mul(mask);
  }

  /**
   * B as serving applies it, {@code scaling * B} with the mask on its rows, as a new array in
   * {@code into}: {@code delta = (x · Aᵀ) · servingB(t)ᵀ} equals {@link #delta} without dropout.
   */
  public NDArray servingB(LoraTarget t, NDManager into) {
    NDArray bb = b.get(t);
    NDArray scaled = bb.mul(into.full(new Shape(), scaling, bb.getDataType())); // the scalar belongs to `into`, not to this adapter
    NDArray mask = masks.get(t);
    if (mask != null) {
      NDArray column = mask.reshape(-1, 1);
      NDArray masked = scaled.mul(column);
      column.close();
      scaled.close();
      scaled = masked;
    }
    scaled.attach(into);
    return scaled;
  }

  /** Bytes of native memory this adapter's tensors take (A, B and masks). */
  public long sizeBytes() {
    long bytes = 0;
    for (LoraTarget t : a.keySet()) {
      bytes += a.get(t).getShape().size() * a.get(t).getDataType().getNumOfBytes();
      bytes += b.get(t).getShape().size() * b.get(t).getDataType().getNumOfBytes();
    }
    synchronized (masks) {
      for (NDArray m : masks.values()) {
        bytes += m.getShape().size() * m.getDataType().getNumOfBytes();
      }
    }
    return bytes;
  }

  /** A and B of every target: the parameters an optimizer trains. */
  public List<NDArray> parameters() {
    List<NDArray> out = new ArrayList<>();
    for (LoraTarget t : a.keySet()) {
      out.add(a.get(t));
      out.add(b.get(t));
    }
    return out;
  }

  /** Marks A and B as requiring gradients (training) or not (serving). */
  public void setTrainable(boolean trainable) {
    parameters().forEach(p -> p.setRequiresGradient(trainable));
  }

  /** Tensors under their PEFT names, B multiplied by the mask, as new arrays in {@code into}. */
  public SortedMap<String, NDArray> peftTensors(NDManager into) {
    SortedMap<String, NDArray> out = new TreeMap<>();
    for (LoraTarget t : a.keySet()) {
      out.put(t.peftModule() + ".lora_A.weight", a.get(t).duplicate());
      NDArray mask = masks.get(t);
      NDArray bb;
      if (mask == null) {
        bb = b.get(t).duplicate();
      } else {
        try (NDArray column = mask.reshape(-1, 1)) {
          bb = b.get(t).mul(column);
        }
      }
      out.put(t.peftModule() + ".lora_B.weight", bb);
    }
    out.values().forEach(x -> x.attach(into));
    return out;
  }

  /** The exact bytes of this adapter's {@code adapter_model.safetensors}. */
  public byte[] safetensorsBytes() {
    try (NDManager tmp = manager.newSubManager()) {
      return SafetensorsWriter.toBytes(peftTensors(tmp), Map.of("format", "pt"));
    }
  }

  /** sha256 (hex) of {@link #safetensorsBytes()}; cached until {@link #contentChanged()}. */
  public String sha256() {
    String s = sha256;
    if (s == null) {
      s = io.marginal.model.weights.Sha256.of(safetensorsBytes());
      sha256 = s;
    }
    return s;
  }

  /**
   * Records the hash of the file this adapter was read from, so an adapter written by another
   * tool (whose bytes differ from ours) keeps the identity of its file.
   */
  public void useFileSha256(String fileSha256) {
    this.sha256 = fileSha256;
  }

  /** Call after changing A, B or a mask in place, so {@link #sha256()} is recomputed. */
  public void contentChanged() {
    sha256 = null;
  }

  /** {@code id@version:sha256-prefix}, for logs and cache keys. */
  public String identity() {
    return id + "@" + version + ":" + sha256().substring(0, 12);
  }

  /** Number of trainable parameters. */
  public long parameterCount() {
    return parameters().stream().mapToLong(p -> p.getShape().size()).sum();
  }

  @Override
  public void close() {
    manager.close();
  }

  @Override
  public String toString() {
    return "LoraAdapter[" + id + "@" + version + ", r=" + config.rank() + ", " + a.size() + " targets]";
  }
}
