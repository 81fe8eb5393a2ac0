package io.marginal.model.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.marginal.model.CheckpointException;
import io.marginal.model.config.ModelConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * All tensors of a model, FLOAT32, owned by one manager. Read-only during inference; only the
 * demo-model builder ever trains them (and LoRA training never touches them).
 */
public final class ModelWeights implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelWeights.class);
  /** Buffers some checkpoints carry that transformers recomputes from the config (we do too). */
  private static final String ROTARY_BUFFER_SUFFIX = "rotary_emb.inv_freq";

  private final ModelConfig config;
  private final NDManager manager;
  private final NDArray embedTokens;
  private final List<LayerWeights> layers;
  private final NDArray norm;
  private final NDArray lmHead;
  /** {@link #lmHead} transposed, {@code [hidden, vocab]}: a view. */
  private final NDArray lmHeadT;
  /** Stacked same-input projections per layer for inference (batch steps, forward passes without hooks); built on first use when not given. */
  private volatile List<FusedProjections> fused;

  private ModelWeights(ModelConfig config, NDManager manager, NDArray embedTokens, List<LayerWeights> layers,
      NDArray norm, NDArray lmHead, List<FusedProjections> fused) {
    this.config = config;
    this.manager = manager;
    this.embedTokens = embedTokens;
    this.layers = List.copyOf(layers);
    this.norm = norm;
    this.lmHead = lmHead;
    this.lmHeadT = lmHead.transpose();
    this.lmHeadT.attach(manager);
    this.fused = fused == null ? null : List.copyOf(fused);
  }

  /**
   * Loads and shape-checks every tensor the configuration implies, and refuses a checkpoint that
   * holds tensors nothing would use (they would be silently dropped and change the output), except
   * rotary {@code inv_freq} buffers, which are recomputed from the config.
   */
  public static ModelWeights load(Path checkpointDir, ModelConfig c, NDManager parent) {
    CheckpointTensors tensors = CheckpointTensors.open(checkpointDir);
    NDManager m = parent.newSubManager();
    try {
      NDArray embed = tensors.read(m, "model.embed_tokens.weight", new long[] {c.vocabSize(), c.hiddenSize()},
          "vocab_size=" + c.vocabSize() + ", hidden_size=" + c.hiddenSize());
      List<LayerWeights> layers = new ArrayList<>();
      List<FusedProjections> fused = new ArrayList<>();
      for (int l = 0; l < c.numHiddenLayers(); l++) {
        String prefix = "model.layers." + l + ".";
        NDArray[] proj = new NDArray[Projection.values().length];
        NDArray[] bias = new NDArray[Projection.values().length];
        for (Projection p : Projection.values()) {
          proj[p.ordinal()] = tensors.read(m, p.weightName(l), new long[] {p.outFeatures(c), p.inFeatures(c)},
              p.moduleName() + " is [out=" + p.outFeatures(c) + ", in=" + p.inFeatures(c) + "] for " + c.describe());
          if (hasBias(c, p)) {
            bias[p.ordinal()] = tensors.read(m, prefix + p.path() + ".bias", new long[] {p.outFeatures(c)},
                "bias of " + p.moduleName() + (p == Projection.O ? " (Llama's attention_bias=true covers o_proj too)" : ""));
          }
        }
        long[] hidden = {c.hiddenSize()};
        FusedProjections.Fused layer = FusedProjections.fuse(new LayerWeights(
            tensors.read(m, prefix + "input_layernorm.weight", hidden, "hidden_size"),
            proj[0], proj[1], proj[2], proj[3], bias[0], bias[1], bias[2], bias[3],
            tensors.read(m, prefix + "post_attention_layernorm.weight", hidden, "hidden_size"),
            proj[4], proj[5], proj[6]), m, c);
        layers.add(layer.layer());
        fused.add(layer.fused());
      }
      NDArray norm = tensors.read(m, "model.norm.weight", new long[] {c.hiddenSize()}, "hidden_size");
      NDArray head = c.tieWordEmbeddings() ? tiedHead(tensors, embed)
          : tensors.read(m, "lm_head.weight", new long[] {c.vocabSize(), c.hiddenSize()},
              "vocab_size x hidden_size; set tie_word_embeddings=true if the checkpoint has no lm_head");
      refuseUnconsumed(tensors, c);
      return new ModelWeights(c, m, embed, layers, norm, head, fused);
    } catch (RuntimeException e) {
      m.close();
      throw e;
    }
  }

  /** Whether the architecture gives projection {@code p} a bias. */
  static boolean hasBias(ModelConfig c, Projection p) {
    return switch (p) {
      case Q, K, V -> c.attentionBias();
      case O -> c.outputProjectionBias();
      default -> false;
    };
  }

  /** With tie_word_embeddings, transformers ties lm_head to embed_tokens even when the file also holds an lm_head. */
  private static NDArray tiedHead(CheckpointTensors tensors, NDArray embed) {
    if (tensors.contains("lm_head.weight")) {
      tensors.markConsumed("lm_head.weight");
      LOG.info("checkpoint {}: tie_word_embeddings=true, so lm_head.weight in the file is ignored and the output head"
          + " is model.embed_tokens.weight, as transformers does (set tie_word_embeddings=false to use the file's head)",
          tensors.dir());
    }
    return embed;
  }

  private static void refuseUnconsumed(CheckpointTensors tensors, ModelConfig c) {
    SortedSet<String> unused = tensors.unconsumed();
    unused.removeIf(name -> name.endsWith(ROTARY_BUFFER_SUFFIX));
    if (unused.isEmpty()) {
      return;
    }
    List<String> shown = unused.stream().limit(8).toList();
    throw new CheckpointException("checkpoint " + tensors.dir() + ": " + unused.size() + " tensor(s) that " + c.architecture()
        + " with this config.json does not use: " + String.join(", ", shown) + (unused.size() > shown.size() ? ", ..." : "")
        + "; ignoring them would change the model's output. Check config.json (attention_bias, mlp_bias, num_hidden_layers,"
        + " architectures) or remove the tensors if they are really unused");
  }

  /**
   * Random weights (normal, std 0.02; norms 1), from a Java {@link Random} so they are the same on
   * every machine. Used by tests and as the demo model's initialisation.
   */
  public static ModelWeights random(ModelConfig c, NDManager parent, long seed) {
    NDManager m = parent.newSubManager();
    Random random = new Random(seed);
    NDArray embed = normal(m, random, 0.02f, c.vocabSize(), c.hiddenSize());
    List<LayerWeights> layers = new ArrayList<>();
    for (int l = 0; l < c.numHiddenLayers(); l++) {
      NDArray[] proj = new NDArray[Projection.values().length];
      for (Projection p : Projection.values()) {
        proj[p.ordinal()] = normal(m, random, 0.02f, p.outFeatures(c), p.inFeatures(c));
      }
      NDArray bq = null;
      NDArray bk = null;
      NDArray bv = null;
      NDArray bo = null;
      if (c.attentionBias()) {
        bq = normal(m, random, 0.02f, c.queryDim());
        bk = normal(m, random, 0.02f, c.keyValueDim());
        bv = normal(m, random, 0.02f, c.keyValueDim());
      }
      if (c.outputProjectionBias()) {
        bo = normal(m, random, 0.02f, c.hiddenSize());
      }
      layers.add(new LayerWeights(m.ones(new Shape(c.hiddenSize())), proj[0], proj[1], proj[2], proj[3],
          bq, bk, bv, bo, m.ones(new Shape(c.hiddenSize())), proj[4], proj[5], proj[6]));
    }
    NDArray head = c.tieWordEmbeddings() ? embed : normal(m, random, 0.02f, c.vocabSize(), c.hiddenSize());
    return new ModelWeights(c, m, embed, layers, m.ones(new Shape(c.hiddenSize())), head, null);
  }

  private static NDArray normal(NDManager m, Random random, float std, long... shape) {
    float[] values = new float[Math.toIntExact(new Shape(shape).size())];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (random.nextGaussian() * std);
    }
    return m.create(values, new Shape(shape));
  }

  public ModelConfig config() {
    return config;
  }

  /** The manager that owns the weights; requests use sub-managers of it. */
  public NDManager manager() {
    return manager;
  }

  public NDArray embedTokens() {
    return embedTokens;
  }

  public LayerWeights layer(int index) {
    return layers.get(index);
  }

  public List<LayerWeights> layers() {
    return layers;
  }

  /**
   * Layer {@code index}'s stacked same-input projections (inference: batch steps and forward passes
   * without hooks outside training). Loaded checkpoints have them from the start, sharing memory
   * with the layer's weights; {@link #random} weights (which the demo builder trains in place) get
   * stacked copies on first use, so call this, and run inference, only after training.
   */
  public FusedProjections fused(int index) {
    return fusedLayers().get(index);
  }

  /** Every layer's {@link #fused} projections, in order (the same caveat). */
  public List<FusedProjections> fusedLayers() {
    List<FusedProjections> f = fused;
    if (f == null) {
      synchronized (this) {
        f = fused;
        if (f == null) {
          List<FusedProjections> built = new ArrayList<>();
          layers.forEach(l -> built.add(FusedProjections.copyOf(l, manager)));
          fused = f = List.copyOf(built);
        }
      }
    }
    return f;
  }

  public NDArray norm() {
    return norm;
  }

  /** {@link #lmHead()} transposed, {@code [hidden, vocab]} (a view): logits are one matrix product with it. */
  public NDArray lmHeadTransposed() {
    return lmHeadT;
  }

  /** The output projection; the same array as {@link #embedTokens()} when embeddings are tied. */
  public NDArray lmHead() {
    return lmHead;
  }

  /** Every tensor by its Hugging Face name (tied embeddings appear once). */
  public SortedMap<String, NDArray> byName() {
    SortedMap<String, NDArray> out = new TreeMap<>();
    out.put("model.embed_tokens.weight", embedTokens);
    for (int l = 0; l < layers.size(); l++) {
      LayerWeights w = layers.get(l);
      String prefix = "model.layers." + l + ".";
      out.put(prefix + "input_layernorm.weight", w.attentionNorm());
      out.put(prefix + "post_attention_layernorm.weight", w.ffnNorm());
      for (Projection p : Projection.values()) {
        out.put(p.weightName(l), w.weight(p));
        if (w.bias(p) != null) {
          out.put(prefix + p.path() + ".bias", w.bias(p));
        }
      }
    }
    out.put("model.norm.weight", norm);
    if (lmHead != embedTokens) {
      out.put("lm_head.weight", lmHead);
    }
    return out;
  }

  /** The name of the first tensor holding a NaN or infinite value, if any (one pass over the weights, no copies). */
  public java.util.Optional<String> firstNonFinite() {
    for (java.util.Map.Entry<String, NDArray> e : byName().entrySet()) {
      NDArray w = e.getValue();
      try (NDArray nan = w.isNaN(); NDArray inf = w.isInfinite(); NDArray bad = nan.logicalOr(inf); NDArray any = bad.any()) {
        if (any.getBoolean()) {
          return java.util.Optional.of(e.getKey());
        }
      }
    }
    return java.util.Optional.empty();
  }

  /** Saves all tensors to one {@code model.safetensors} file. */
  public void save(Path file) {
    SafetensorsWriter.write(file, byName(), Map.of("format", "pt"));
  }

  @Override
  public void close() {
    manager.close();
  }
}
