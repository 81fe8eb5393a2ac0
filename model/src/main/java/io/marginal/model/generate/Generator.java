package io.marginal.model.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.marginal.model.tokenizer.TextTokenizer;
import io.marginal.model.transformer.ForwardOptions;
import io.marginal.model.transformer.KvCache;
import io.marginal.model.transformer.NoGradScope;
import io.marginal.model.transformer.ProjectionAdapter;
import io.marginal.model.transformer.Transformer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Autoregressive generation: one forward over the whole prompt (prefill) fills the KV cache, then
 * one token at a time. Each request owns a sub-manager of the weights' manager and each step a
 * sub-manager of that, so nothing outlives the request. Safe to call from several threads at
 * once (each call has its own cache, sampler and managers).
 */
public final class Generator {
  private final Transformer transformer;
  private final TextTokenizer tokenizer;
  private final List<Integer> defaultStopTokenIds;

  public Generator(Transformer transformer, TextTokenizer tokenizer, List<Integer> defaultStopTokenIds) {
    this.transformer = transformer;
    this.tokenizer = tokenizer;
    this.defaultStopTokenIds = List.copyOf(defaultStopTokenIds);
  }

  /**
   * Generates a continuation of {@code prompt}.
   *
   * @param listener called for each token; a final call with token id {@code -1} delivers text
   *     that was held back (a partial stop string that did not complete), if any
   */
  public GenerationResult generate(int[] prompt, GenerationRequest request, ProjectionAdapter adapters, TokenListener listener) {
    if (prompt.length == 0) {
      throw new IllegalArgumentException("prompt is empty");
    }
    if (prompt.length >= transformer.contextLength()) {
      throw new IllegalArgumentException("prompt has " + prompt.length + " tokens; the context length is "
          + transformer.contextLength());
    }
    TokenListener out = listener == null ? TokenListener.NONE : listener;
    Set<Integer> stops = new HashSet<>(request.stopTokenIds() == null ? defaultStopTokenIds : request.stopTokenIds());
    Sampler sampler = Sampler.of(request);
    ForwardOptions options = ForwardOptions.inference(adapters);
    TextStream stream = new TextStream(tokenizer, request.stopStrings());
    List<Integer> generated = new ArrayList<>();
    FinishReason reason;
    long start = System.nanoTime();
    long prefillNanos;
    try (NoGradScope noGrad = NoGradScope.open();
        NDManager requestManager = transformer.manager().newSubManager();
        KvCache cache = new KvCache(requestManager, transformer.config().numHiddenLayers())) {
      float[] logits = step(requestManager, prompt, 0, cache, options);
      prefillNanos = System.nanoTime() - start;
      int position = prompt.length;
      while (true) {
        if (generated.size() >= request.maxTokens()) {
          reason = FinishReason.MAX_TOKENS;
          break;
        }
        int next = sampler.sample(logits);
        if (stops.contains(next)) {
          reason = FinishReason.STOP_TOKEN;
          break;
        }
        generated.add(next);
        if (!out.onToken(next, stream.push(next))) {
          reason = FinishReason.CANCELLED;
          break;
        }
        if (stream.stopped()) {
          reason = FinishReason.STOP_STRING;
          break;
        }
        if (generated.size() >= request.maxTokens()) {
          reason = FinishReason.MAX_TOKENS;
          break;
        }
        if (position + 1 >= transformer.contextLength()) {
          reason = FinishReason.CONTEXT_LENGTH;
          break;
        }
        logits = step(requestManager, new int[] {next}, position, cache, options);
        position++;
      }
    }
    String remainder = stream.remainder();
    if (!remainder.isEmpty()) {
      out.onToken(-1, remainder);
    }
    long total = System.nanoTime() - start;
    return new GenerationResult(stream.text(), generated.stream().mapToInt(Integer::intValue).toArray(), reason,
        prompt.length, prefillNanos, total - prefillNanos);
  }

  /** Runs {@code ids} at {@code position} through the model; returns the last position's logits. */
  private float[] step(NDManager requestManager, int[] ids, int position, KvCache cache, ForwardOptions options) {
    try (NDManager stepManager = requestManager.newSubManager()) {
      NDArray tokens = stepManager.create(ids).reshape(1, ids.length);
      NDArray hidden = transformer.forward(tokens, position, cache, options);
      return transformer.logits(Transformer.lastPosition(hidden)).toFloatArray();
    }
  }
}
