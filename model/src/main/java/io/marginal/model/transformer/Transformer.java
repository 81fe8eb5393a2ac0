package io.marginal.model.transformer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import io.marginal.model.config.HiddenActivation;
import io.marginal.model.config.ModelConfig;
import io.marginal.model.weights.FusedProjections;
import io.marginal.model.weights.LayerWeights;
import io.marginal.model.weights.ModelWeights;
import io.marginal.model.weights.Projection;
import io.marginal.model.weights.ProjectionGroup;
import java.util.List;

/**
 * The Llama-family decoder as NDArray operations:
 *
 * <pre>
 *   x = embed(tokens)
 *   for each layer:
 *     h = rmsnorm(x);  q,k,v = h·Wq, h·Wk, h·Wv (+bias);  q,k = rope(q,k)
 *     x = x + attention(q, [cache|k], [cache|v]) · Wo (+bias)  (grouped-query, causal)
 *     h = rmsnorm(x);  x = x + (act(h·Wgate) * h·Wup) · Wdown  (act = hidden_act, SiLU for most)
 *   return rmsnorm(x)
 * </pre>
 *
 * Every projection output gets the active adapters' delta added, and every named activation is
 * shown to the {@link ModuleHook}. All results live in the manager of the input {@code tokens}
 * array (weights are always the second operand), so a request's sub-manager owns everything the
 * request creates. Weights are only read: concurrent forwards from several threads are safe.
 */
public final class Transformer {
  private final ModelConfig config;
  private final ModelWeights weights;
  private final RotaryEmbedding rope;
  private final float attentionScale;
  private final HiddenActivation activation;
  /** Output widths of each {@link ProjectionGroup}'s members, by group ordinal. */
  private final long[][] groupWidths;
  /**
   * 0-d constants made once (owned by PyTorch, in the weights' manager): an operation with a Java
   * number would make a tensor of it each time, and {@code mean} divides by an integer count,
   * which costs a type conversion per call (a third of a decode step's norm time on the demo model).
   */
  private final NDArray hiddenCount;
  private final NDArray normEps;
  private final NDArray scale;

  public Transformer(ModelWeights weights) {
    this.config = weights.config();
    this.weights = weights;
    this.rope = new RotaryEmbedding(config, weights.manager());
    this.attentionScale = (float) (1.0 / Math.sqrt(config.headDim()));
    this.activation = config.activation();
    this.groupWidths = new long[ProjectionGroup.values().length][];
    for (ProjectionGroup g : ProjectionGroup.values()) {
      groupWidths[g.ordinal()] = g.members().stream().mapToLong(p -> p.outFeatures(config)).toArray();
    }
    NDManager m = weights.manager();
    DataType type = weights.embedTokens().getDataType();
    this.hiddenCount = m.full(new Shape(), (float) config.hiddenSize(), type);
    this.normEps = m.full(new Shape(), (float) config.rmsNormEps(), type);
    this.scale = m.full(new Shape(), attentionScale, type);
  }

  public ModelConfig config() {
    return config;
  }

  public ModelWeights weights() {
    return weights;
  }

  /** The manager owning the weights; make per-request sub-managers from it. */
  public NDManager manager() {
    return weights.manager();
  }

  /** Longest sequence (prompt + generated) a forward pass accepts. */
  public int contextLength() {
    return rope.positions();
  }

  /**
   * Runs the decoder over {@code tokens} ({@code [B, T]}, int), whose first token is at position
   * {@code startPos}. With a {@code cache}, attends to the cached positions too and appends this
   * step's keys and values to it ({@code startPos} must equal {@code cache.length()}).
   *
   * @return the final-norm hidden states {@code [B, T, hidden]}
   */
  public NDArray forward(NDArray tokens, int startPos, KvCache cache, ForwardOptions options) {
    if (cache != null && cache.length() != startPos) {
      throw new IllegalArgumentException("startPos " + startPos + " but the cache holds " + cache.length() + " positions");
    }
    NDArray x = Embedding.embedding(tokens, weights.embedTokens(), SparseFormat.DENSE).head();
    if (!options.training() && options.hook() == ModuleHook.NONE) {
      return fusedForward(x, startPos, cache, options.adapters());
    }
    for (int layer = 0; layer < config.numHiddenLayers(); layer++) {
      LayerWeights w = weights.layer(layer);
      x = x.add(attention(layer, w, rmsNorm(x, w.attentionNorm()), startPos, cache, options));
      x = x.add(feedForward(layer, w, rmsNorm(x, w.ffnNorm()), options));
      x = options.hook().onOutput(layer, HookPoint.LAYER_OUTPUT, x);
    }
    return rmsNorm(x, weights.norm());
  }

  /**
   * {@link #forward} where nothing watches the activations and nothing trains: each projection group
   * (q|k|v, gate|up) is one product, as in a batch step, and q|k|v is rotated as one tensor with
   * tables made once for all layers. The same arithmetic per output element; about a third fewer
   * native operations, which is what a small model's forward costs (an instance embedding, a
   * one-at-a-time decode step, a candidate's score). It reads the stacked copies of
   * {@link ModelWeights#fused}: weights trained in place must run with {@code training} until done.
   */
  private NDArray fusedForward(NDArray embedded, int startPos, KvCache cache, ProjectionAdapter adapters) {
    NDArray x = embedded;
    int[] positions = new int[(int) x.getShape().get(1)];
    for (int i = 0; i < positions.length; i++) {
      positions[i] = startPos + i;
    }
    int kvHeads = config.numKeyValueHeads();
    NDArray[] rotation = rope.tables(x.getManager(), positions, config.numAttentionHeads() + kvHeads, kvHeads);
    for (int layer = 0; layer < config.numHiddenLayers(); layer++) {
      LayerWeights w = weights.layer(layer);
      FusedProjections f = weights.fused(layer);
      x = x.add(fusedAttention(layer, w, f, rmsNorm(x, w.attentionNorm()), rotation, startPos, cache, adapters));
      x = x.add(batchFeedForward(layer, w, f, rmsNorm(x, w.ffnNorm()), adapters));
    }
    return rmsNorm(x, weights.norm());
  }

  /** Attention of {@link #fusedForward}: {@code h} is {@code [B, T, hidden]}, rotated by {@code rotation} ({@code [T, heads + 2·kv, d]}). */
  private NDArray fusedAttention(int layer, LayerWeights w, FusedProjections f, NDArray h, NDArray[] rotation, int startPos,
                                 KvCache cache, ProjectionAdapter adapters) {
    int heads = config.numAttentionHeads();
    int kvHeads = config.numKeyValueHeads();
    Shape shape = h.getShape();
    NDArray qkv = projectGroup(layer, ProjectionGroup.QKV, h, w, f, adapters)
        .reshape(shape.get(0), shape.get(1), heads + 2L * kvHeads, config.headDim());
    NDList parts = rope.applyRows(qkv, rotation).split(new long[] {heads, heads + kvHeads}, 2);
    NDArray context = attend(layer, parts.get(0).transpose(0, 2, 1, 3), parts.get(1).transpose(0, 2, 1, 3),
        parts.get(2).transpose(0, 2, 1, 3), startPos, cache, false);
    return projectGroup(layer, ProjectionGroup.O, context, w, f, adapters);
  }

  /**
   * One step of a running batch ({@link BatchKvCache}): {@code tokens} is {@code [N, 1]}, one
   * token for each slot {@code b < running.length} (the slot's sequence's last token at its own
   * position where {@code running[b]}, a placeholder otherwise), then the whole prompt of each of
   * {@code prompts} (slots just taken, from position 0), in that order. Every token's key and value
   * is written into its slot's preallocated place; a running slot attends over its own positions, a
   * prompt over itself causally. So a step that admits new requests also advances the running ones:
   * no separate prefill pass. Projections run on all {@code N} tokens at once (q|k|v and gate|up
   * stacked); {@code adapters} sees the {@code [N, 1, in]} inputs, so a per-slot adapter must cover
   * the tokens in the same order. The arithmetic per token is that of {@link #forward} with a cache.
   *
   * @return the final-norm hidden states where the next token is sampled, {@code [D + P, 1, hidden]}:
   *     each of the {@code D = running.length} slots', then each prompt's last position
   */
  public NDArray step(NDArray tokens, BatchKvCache cache, boolean[] running, List<BatchKvCache.PromptChunk> prompts,
                      ProjectionAdapter adapters) {
    return step(tokens, cache, running, prompts, adapters, weights.fusedLayers());
  }

  /**
   * {@link #step} with each layer's projections from {@code projections} instead of the model's
   * own: e.g. weights with an adapter every request uses merged in ({@code MergedAdapters}), the
   * rows' {@code adapters} then being relative to them. Norms, embeddings and biases stay the model's.
   */
  public NDArray step(NDArray tokens, BatchKvCache cache, boolean[] running, List<BatchKvCache.PromptChunk> prompts,
                      ProjectionAdapter adapters, List<FusedProjections> projections) {
    NDManager step = tokens.getManager();
    int decodeRows = running.length;
    cache.beginStep(step, running, prompts);
    NDArray[] rotation = rope.tables(step, cache.tokenPositions(), config.numAttentionHeads() + config.numKeyValueHeads(),
        config.numKeyValueHeads());
    NDArray[] promptMasks = new NDArray[prompts.size()]; // shared by all layers
    for (int i = 0; i < promptMasks.length; i++) {
      int t = prompts.get(i).length();
      promptMasks[i] = t > 1 ? causalMask(step, config.numAttentionHeads() / config.numKeyValueHeads(), t, t, 0) : null;
    }
    NDArray x = Embedding.embedding(tokens, weights.embedTokens(), SparseFormat.DENSE).head();
    for (int layer = 0; layer < config.numHiddenLayers(); layer++) {
      LayerWeights w = weights.layer(layer);
      FusedProjections f = projections.get(layer);
      x = x.add(batchAttention(layer, w, f, rmsNorm(x, w.attentionNorm()), rotation, promptMasks, cache, adapters));
      x = x.add(batchFeedForward(layer, w, f, rmsNorm(x, w.ffnNorm()), adapters));
    }
    cache.endStep();
    if (!prompts.isEmpty()) { // the positions that are sampled: every decode row, each prompt's last token
      long[] sampled = new long[decodeRows + prompts.size()];
      for (int b = 0; b < decodeRows; b++) {
        sampled[b] = b;
      }
      long end = decodeRows;
      for (int i = 0; i < prompts.size(); i++) {
        end += prompts.get(i).length();
        sampled[decodeRows + i] = end - 1;
      }
      x = x.get(new NDIndex("{}", step.create(sampled)));
    }
    return rmsNorm(x, weights.norm());
  }

  private NDArray batchAttention(int layer, LayerWeights w, FusedProjections f, NDArray h, NDArray[] rotation, NDArray[] promptMasks,
                                 BatchKvCache cache, ProjectionAdapter adapters) {
    int heads = config.numAttentionHeads();
    int kvHeads = config.numKeyValueHeads();
    int group = heads / kvHeads;
    int d = config.headDim();
    long n = h.getShape().get(0);
    // one token per row: [N, 1, (heads + 2·kv)·d] is [N, heads + 2·kv, d]; q and k heads are rotated, v heads pass
    NDList qkv = rope.applyRows(projectGroup(layer, ProjectionGroup.QKV, h, w, f, adapters).reshape(n, heads + 2L * kvHeads, d), rotation)
        .split(new long[] {heads}, 1);
    NDArray q = qkv.get(0);
    NDArray[] kv = cache.write(layer, qkv.get(1));
    int decodeRows = cache.decodeRows();
    List<BatchKvCache.PromptChunk> prompts = cache.chunks();
    NDList contexts = new NDList();
    if (decodeRows > 0) {
      // the query heads that share a kv head are the rows of one product: [D, kv, group, d] x [D, kv, d, L]
      NDArray qd = (prompts.isEmpty() ? q : q.get(new NDIndex(":{}", decodeRows))).reshape(decodeRows, kvHeads, group, d);
      NDArray scores = qd.matMul(kv[0].transpose(0, 1, 3, 2)).mul(scale);
      NDArray probabilities = scores.add(cache.attentionMask()).softmax(-1);
      contexts.add(probabilities.matMul(kv[1]).reshape(decodeRows, 1, (long) heads * d));
    }
    long offset = decodeRows;
    for (int i = 0; i < prompts.size(); i++) {
      BatchKvCache.PromptChunk p = prompts.get(i);
      int t = p.length();
      // a prompt's tokens as one sequence, the group's heads and positions as rows: [kv, group·T, d] x [kv, d, T]
      NDArray qp = q.get(new NDIndex("{}:{}", offset, offset + t)).reshape(t, kvHeads, group, d).transpose(1, 2, 0, 3)
          .reshape(kvHeads, (long) group * t, d);
      NDArray[] own = cache.chunk(layer, p, q.getManager());
      NDArray scores = qp.matMul(own[0].transpose(0, 2, 1)).mul(scale);
      if (promptMasks[i] != null) {
        scores = scores.add(promptMasks[i]);
      }
      contexts.add(scores.softmax(-1).matMul(own[1]).reshape(kvHeads, group, t, d).transpose(2, 0, 1, 3)
          .reshape(t, 1, (long) heads * d));
      offset += t;
    }
    NDArray context = contexts.size() == 1 ? contexts.head() : NDArrays.concat(contexts, 0);
    return projectGroup(layer, ProjectionGroup.O, context, w, f, adapters);
  }

  /** The MLP of a decode step: gate and up as one product ({@link ProjectionGroup#GATE_UP}). */
  private NDArray batchFeedForward(int layer, LayerWeights w, FusedProjections f, NDArray h, ProjectionAdapter adapters) {
    NDList gateUp = projectGroup(layer, ProjectionGroup.GATE_UP, h, w, f, adapters).split(new long[] {config.intermediateSize()}, 2);
    NDArray neurons = MlpActivation.apply(activation, gateUp.get(0)).mul(gateUp.get(1));
    return projectGroup(layer, ProjectionGroup.DOWN, neurons, w, f, adapters);
  }

  /** A projection group's stacked output plus the adapters' update to it (the decode path; no hooks). */
  private NDArray projectGroup(int layer, ProjectionGroup g, NDArray input, LayerWeights w, FusedProjections f,
                               ProjectionAdapter adapters) {
    NDArray bias = f.bias(g, w);
    NDArray out = bias == null ? input.matMul(f.transposed(g)) : Linear.linear(input, f.weight(g), bias).head();
    NDArray delta = adapters.groupDelta(layer, g, input, groupWidths[g.ordinal()]);
    return delta == null ? out : out.add(delta);
  }

  /** Projects hidden states {@code [..., hidden]} to vocabulary logits {@code [..., vocab]}. */
  public NDArray logits(NDArray hidden) {
    return hidden.matMul(weights.lmHeadTransposed());
  }

  /** {@code x / sqrt(mean(x²) + eps) · weight} over the last axis (the mean as {@code sum / n}, which is what {@code mean} computes). */
  NDArray rmsNorm(NDArray x, NDArray weight) {
    NDArray rms = x.square().sum(new int[] {-1}, true).div(hiddenCount).add(normEps).sqrt();
    return x.div(rms).mul(weight);
  }

  private NDArray attention(int layer, LayerWeights w, NDArray h, int startPos, KvCache cache, ForwardOptions o) {
    int heads = config.numAttentionHeads();
    int kvHeads = config.numKeyValueHeads();
    NDArray q = splitHeads(project(layer, Projection.Q, h, w, o), heads);
    NDArray k = splitHeads(project(layer, Projection.K, h, w, o), kvHeads);
    NDArray v = splitHeads(project(layer, Projection.V, h, w, o), kvHeads);
    return project(layer, Projection.O, attend(layer, q, k, v, startPos, cache, true), w, o);
  }

  /**
   * Causal grouped-query attention of {@code q} {@code [B, heads, T, d]} over the cached positions
   * and this call's {@code k, v} (rotated here when {@code rotate}, appended to {@code cache} when
   * there is one).
   *
   * @return the context {@code [B, T, heads·d]}, before o_proj
   */
  private NDArray attend(int layer, NDArray q, NDArray k, NDArray v, int startPos, KvCache cache, boolean rotate) {
    Shape shape = q.getShape();
    long batch = shape.get(0);
    long t = shape.get(2);
    int heads = config.numAttentionHeads();
    int kvHeads = config.numKeyValueHeads();
    int group = heads / kvHeads;
    int d = config.headDim();
    if (rotate) {
      q = rope.apply(q, startPos);
      k = rope.apply(k, startPos);
    }
    if (cache != null) {
      NDArray[] kv = cache.append(layer, k, v);
      k = kv[0];
      v = kv[1];
    }
    long s = k.getShape().get(2);

    // Grouped-query attention without copying keys: the query heads that share a kv head are the
    // rows of one product, [B, kv, group·T, d] x [B, kv, d, S] (a broadcast over a group axis instead
    // makes PyTorch expand and copy both operands)
    NDArray qg = q.reshape(batch, kvHeads, group * t, d);
    NDArray scores = qg.matMul(k.transpose(0, 1, 3, 2)).mul(scale);
    if (t > 1) { // the [T, S] mask broadcast over the group's heads, as [B, kv, group, T, S] (a view)
      scores = scores.reshape(batch, kvHeads, group, t, s).add(causalMask(q.getManager(), 1, (int) t, (int) s, startPos))
          .reshape(batch, kvHeads, group * t, s);
    }
    NDArray probabilities = scores.softmax(-1);
    return probabilities.matMul(v)
        .reshape(batch, heads, t, d).transpose(0, 2, 1, 3).reshape(batch, t, (long) heads * d);
  }

  private NDArray feedForward(int layer, LayerWeights w, NDArray h, ForwardOptions o) {
    NDArray gate = project(layer, Projection.GATE, h, w, o);
    NDArray up = project(layer, Projection.UP, h, w, o);
    NDArray neurons = MlpActivation.apply(activation, gate).mul(up);
    neurons = o.hook().onOutput(layer, HookPoint.MLP_ACTIVATION, neurons);
    return project(layer, Projection.DOWN, neurons, w, o);
  }

  private NDArray project(int layer, Projection p, NDArray input, LayerWeights w, ForwardOptions o) {
    NDArray bias = w.bias(p);
    NDArray out = bias == null ? Linear.linear(input, w.weight(p)).head() : Linear.linear(input, w.weight(p), bias).head();
    NDArray delta = o.adapters().delta(layer, p, input, o.training());
    if (delta != null) {
      out = out.add(delta);
    }
    return o.hook().onOutput(layer, HookPoint.of(p), out);
  }

  /** [B, T, heads*d] to [B, heads, T, d]. */
  private NDArray splitHeads(NDArray x, int heads) {
    Shape s = x.getShape();
    return x.reshape(s.get(0), s.get(1), heads, config.headDim()).transpose(0, 2, 1, 3);
  }

  /**
   * Additive mask {@code [group·T, S]}: row {@code (g, i)}, a query at absolute position
   * {@code startPos + i}, may see keys {@code 0..startPos+i} (the {@code group} query heads that
   * share a kv head stacked as rows, as in a batch step's prompt; 1 for {@link #forward}).
   */
  private static NDArray causalMask(NDManager manager, int group, int t, int s, int startPos) {
    float[] mask = new float[group * t * s];
    for (int row = 0; row < group * t; row++) {
      int i = row % t;
      java.util.Arrays.fill(mask, row * s + Math.min(s, startPos + i + 1), (row + 1) * s, -1e9f);
    }
    return manager.create(mask, new Shape((long) group * t, s));
  }

  /** The hidden state of the last position: {@code [B, T, H]} to {@code [B, 1, H]}. */
  public static NDArray lastPosition(NDArray hidden) {
    return hidden.get(new NDIndex(":, -1:, :"));
  }
}
