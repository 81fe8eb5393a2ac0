package io.marginal.inference.api;

import io.marginal.inference.adapters.AdapterRegistry;
import io.marginal.inference.adapters.AdapterWatcher;
import io.marginal.inference.auth.ApiKeyAuthenticator;
import io.marginal.inference.config.InferenceConfig;
import io.marginal.inference.generation.ChatService;
import io.marginal.inference.generation.ModelWorkerPool;
import io.marginal.inference.generation.TextGeneration;
import io.marginal.inference.kafka.EventPublisher;
import io.marginal.inference.metrics.NodeMetrics;
import io.marginal.inference.personalization.MemoryBankReplica;
import io.marginal.inference.receipts.DeletionReceiptReplica;
import java.util.List;
import java.util.function.Supplier;

/**
 * What the HTTP layer uses, built by the node and handed to the verticle.
 *
 * @param notReady    reasons the node is not ready yet (empty when ready)
 * @param reloadAdapters re-reads the adapters topic (admin reload)
 * @param generation  the node's decoding (for what its batching engines merged)
 */
public record NodeServices(InferenceConfig config, ChatService chat, ModelWorkerPool workers, AdapterRegistry adapters,
    AdapterWatcher adapterWatcher, MemoryBankReplica banks, DeletionReceiptReplica receipts, EventPublisher publisher, NodeMetrics metrics,
    ApiKeyAuthenticator authenticator, Supplier<List<String>> notReady, Runnable reloadAdapters, TextGeneration generation) {
}
