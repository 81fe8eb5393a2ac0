/**
 * What every service shows operators: {@link io.marginal.metrics.ServiceMetrics} (a Micrometer
 * Prometheus registry with JVM and process metrics) and {@link io.marginal.metrics.OpsHttpServer}
 * ({@code /metrics}, {@code /ready}, {@code /health}) for the services without an HTTP API. The
 * inference node serves the same registry from its own Vert.x router, behind the admin key.
 */
package io.marginal.metrics;
