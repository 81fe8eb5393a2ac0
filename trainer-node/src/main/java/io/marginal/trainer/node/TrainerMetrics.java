package io.marginal.trainer.node;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The trainer's own meters: what became of each unlearning request
 * ({@code marginal_trainer_requests_total{outcome}}) and how long training took
 * ({@code marginal_trainer_job_duration_seconds{outcome}}, a histogram). No request, user or
 * adapter id in a label: a per-user adapter's id names its user.
 */
final class TrainerMetrics {

  /** What became of one record of the unlearning-requests topic. */
  enum Outcome {
    /** Trained, passed the gate, stored and published. */
    PUBLISHED(true),
    /** Trained, refused by the publication gate (FAILED event). */
    GATE_FAILED(true),
    /** The job threw (FAILED event). */
    FAILED(true),
    /** Invalid request, refused before training (FAILED event, REJECTED receipt). */
    REFUSED(false),
    /** A stored version already came from this request: re-announced, not trained again. */
    REDELIVERED(false),
    /** Not a readable request: dead-lettered. */
    UNREADABLE(false);

    final boolean trained;

    Outcome(boolean trained) {
      this.trained = trained;
    }

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private static final Duration[] JOB_BUCKETS = {Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(15),
      Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofMinutes(2), Duration.ofMinutes(5), Duration.ofMinutes(10),
      Duration.ofMinutes(20), Duration.ofMinutes(30)};

  private final Map<Outcome, Counter> requests = new EnumMap<>(Outcome.class);
  private final Map<Outcome, Timer> durations = new EnumMap<>(Outcome.class);
  private final AtomicInteger running = new AtomicInteger();

  TrainerMetrics(MeterRegistry registry) {
    for (Outcome o : Outcome.values()) {
      requests.put(o, Counter.builder("marginal.trainer.requests").description("Unlearning requests handled, by outcome.")
          .tag("outcome", o.label()).register(registry));
      if (o.trained) {
        durations.put(o, Timer.builder("marginal.trainer.job.duration")
            .description("Training and evaluation time of one request (the job, without storing and publishing), by outcome.")
            .tag("outcome", o.label()).serviceLevelObjectives(JOB_BUCKETS).register(registry));
      }
    }
    Gauge.builder("marginal.trainer.job.running", running::get).description("1 while a job trains on this node.").register(registry);
  }

  void handled(Outcome outcome) {
    requests.get(outcome).increment();
  }

  void jobStarted() {
    running.set(1);
  }

  /** A finished job: its duration under {@code outcome} (one of the trained ones), and the request counted. */
  void jobEnded(Outcome outcome, long nanos) {
    running.set(0);
    durations.get(outcome).record(nanos, TimeUnit.NANOSECONDS);
    handled(outcome);
  }
}
