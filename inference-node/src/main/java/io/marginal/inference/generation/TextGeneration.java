package io.marginal.inference.generation;

import io.marginal.model.LanguageModel;
import io.marginal.model.generate.BatchingEngine;
import io.marginal.model.generate.GenerationRequest;
import io.marginal.model.generate.GenerationResult;
import io.marginal.model.generate.TokenListener;
import io.marginal.model.lora.ActiveAdapters;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * How a node turns prompts into tokens: decoded together with every other running request by the
 * continuous-batching engine ({@link #batched}, the default), or one sequence at a time on the
 * calling model worker ({@link #oneAtATime}, {@code MARGINAL_MAX_BATCH=0}; the baseline the load
 * benchmark compares against). Either way the call blocks until the generation ends: call it on a
 * model worker, never on an event loop.
 */
public interface TextGeneration extends AutoCloseable {

  GenerationResult generate(int[] prompt, GenerationRequest request, ActiveAdapters adapters, TokenListener listener);

  /** Several generations of one prompt (e.g. the CM candidates); batched, the prompt is prefilled once. */
  List<GenerationResult> generateGroup(int[] prompt, List<GenerationRequest> requests, ActiveAdapters adapters, TokenListener listener);

  /** The instance embedding of a request's text ({@link LanguageModel#embed}); batched across concurrent requests when batching. */
  float[] embed(String text);

  /**
   * {@link #embed} without waiting, where the node has an embedding thread: the caller can decode
   * meanwhile and {@link #join} it when the embedding is needed. One at a time, it is computed
   * here, before returning (the baseline's order: embed, then generate).
   */
  CompletableFuture<float[]> embedAsync(String text);

  /** The value of a generation's or an embedding's future, waiting for it; its failure unwrapped. */
  static <T> T join(CompletableFuture<T> f) {
    try {
      return f.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw e;
    }
  }

  /**
   * Merges {@code shared} (the adapters every request of the base model id uses) into the weights
   * the batching engines step with, building the copies on this thread (blocking); requests'
   * answers do not change, only their cost ({@link BatchingEngine#merge}). One at a time: nothing.
   */
  void mergeShared(ActiveAdapters shared);

  /** Per batching engine, the adapters merged into the weights it steps with ({@code id@version:sha}); none when one at a time. */
  List<List<String>> mergedAdapters();

  /** Sequences decoding right now (0 when one at a time). */
  int activeSequences();

  /** Mean sequences per decode step so far (1 when one at a time). */
  double meanBatchSize();

  @Override
  void close();

  static TextGeneration oneAtATime(LanguageModel model) {
    return new TextGeneration() {
      @Override
      public GenerationResult generate(int[] prompt, GenerationRequest request, ActiveAdapters adapters, TokenListener listener) {
        return model.generate(prompt, request, adapters, listener);
      }

      @Override
      public float[] embed(String text) {
        return model.embed(text);
      }

      @Override
      public CompletableFuture<float[]> embedAsync(String text) {
        return CompletableFuture.completedFuture(model.embed(text));
      }

      @Override
      public List<GenerationResult> generateGroup(int[] prompt, List<GenerationRequest> requests, ActiveAdapters adapters,
          TokenListener listener) {
        List<GenerationResult> out = new ArrayList<>();
        for (GenerationRequest r : requests) {
          out.add(model.generate(prompt, r, adapters, listener));
        }
        return out;
      }

      @Override
      public void mergeShared(ActiveAdapters shared) {
      }

      @Override
      public List<List<String>> mergedAdapters() {
        return List.of();
      }

      @Override
      public int activeSequences() {
        return 0;
      }

      @Override
      public double meanBatchSize() {
        return 1;
      }

      @Override
      public void close() {
      }
    };
  }

  /**
   * {@code engines} continuous-batching engines of up to {@code maxBatch} sequences each; a request
   * goes to the engine with the fewest sequences running or waiting. Each engine is one thread, so
   * with one PyTorch intra-op thread, engines = cores uses every core for decoding.
   */
  static TextGeneration batched(LanguageModel model, int maxBatch, int engines) {
    List<BatchingEngine> pool = new ArrayList<>();
    for (int i = 0; i < engines; i++) {
      pool.add(model.newBatchingEngine(maxBatch));
    }
    InstanceEmbeddings embeddings = new InstanceEmbeddings(model, maxBatch);
    return new TextGeneration() {
      private BatchingEngine leastLoaded() {
        BatchingEngine best = pool.get(0);
        for (BatchingEngine e : pool) {
          if (e.activeRows() + e.waiting() < best.activeRows() + best.waiting()) {
            best = e;
          }
        }
        return best;
      }

      @Override
      public GenerationResult generate(int[] prompt, GenerationRequest request, ActiveAdapters adapters, TokenListener listener) {
        return join(leastLoaded().submit(prompt, request, adapters, listener));
      }

      @Override
      public float[] embed(String text) {
        return embeddings.embed(text);
      }

      @Override
      public CompletableFuture<float[]> embedAsync(String text) {
        return embeddings.embedAsync(text);
      }

      @Override
      public List<GenerationResult> generateGroup(int[] prompt, List<GenerationRequest> requests, ActiveAdapters adapters,
          TokenListener listener) {
        List<TokenListener> listeners = requests.stream().map(r -> listener).toList();
        return leastLoaded().submitGroup(prompt, requests, adapters, listeners).stream().map(TextGeneration::join).toList();
      }

      @Override
      public void mergeShared(ActiveAdapters shared) {
        pool.forEach(e -> e.merge(shared));
      }

      @Override
      public List<List<String>> mergedAdapters() {
        return pool.stream().map(BatchingEngine::mergedAdapters).toList();
      }

      @Override
      public int activeSequences() {
        return pool.stream().mapToInt(BatchingEngine::activeRows).sum();
      }

      @Override
      public double meanBatchSize() {
        return pool.stream().mapToDouble(BatchingEngine::meanBatchSize).average().orElse(0);
      }

      @Override
      public void close() {
        pool.forEach(BatchingEngine::close);
        embeddings.close();
      }
    };
  }

}
