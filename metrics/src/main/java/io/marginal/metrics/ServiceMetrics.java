package io.marginal.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One service's meters: a Micrometer {@link PrometheusMeterRegistry} with the JVM and process
 * metrics already bound (memory, GC, threads, class loading, CPU, uptime, file descriptors).
 * Services add their own meters to {@link #registry()} and their Kafka clients' metrics with
 * {@link #bind}; {@link #scrape()} is what {@code /metrics} answers.
 */
public final class ServiceMetrics implements AutoCloseable {

  /** The Prometheus text exposition format that {@link #scrape()} writes. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private static final Logger LOG = LoggerFactory.getLogger(ServiceMetrics.class);

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Deque<AutoCloseable> closeable = new ArrayDeque<>();

  private ServiceMetrics() {
  }

  /** A registry with the JVM and process metrics bound. */
  public static ServiceMetrics create() {
    ServiceMetrics metrics = new ServiceMetrics();
    metrics.bind(new JvmMemoryMetrics());
    metrics.bind(new JvmGcMetrics());
    metrics.bind(new JvmThreadMetrics());
    metrics.bind(new ClassLoaderMetrics());
    metrics.bind(new ProcessorMetrics());
    metrics.bind(new UptimeMetrics());
    metrics.bind(new FileDescriptorMetrics());
    return metrics;
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** Binds {@code binder}; one that holds resources (GC listeners, Kafka metric refreshers) is closed with this. */
  public synchronized <B extends MeterBinder> B bind(B binder) {
    binder.bindTo(registry);
    if (binder instanceof AutoCloseable c) {
      closeable.push(c);
    }
    return binder;
  }

  /** Every meter in the Prometheus text format 0.0.4 ({@link #CONTENT_TYPE}). */
  public String scrape() {
    return registry.scrape(CONTENT_TYPE);
  }

  @Override
  public synchronized void close() {
    while (!closeable.isEmpty()) {
      AutoCloseable c = closeable.pop();
      try {
        c.close();
      } catch (Exception e) {
        LOG.warn("closing metrics binder {}: {}", c.getClass().getSimpleName(), e.toString());
      }
    }
    registry.close();
  }
}
