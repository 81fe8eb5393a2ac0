package io.marginal.trainer.unlearning;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Decides whether an evaluated adapter may be published. It fails when the concept still leaks too
 * often on the evaluation probe families, which training never sees (name, alias, director or plot
 * keyword; without evaluation probes — a request with no concept — the direct probes), when retain
 * agreement with the base model dropped by more than allowed, or when a concept forgotten by an
 * earlier version came back. The reason names every figure that failed and its limit.
 */
public final class PublicationGate {

  private final double maxMentionRate;
  private final double maxRetainDrop;
  private final double maxPreviousMentionRate;

  public PublicationGate(double maxMentionRate, double maxRetainDrop, double maxPreviousMentionRate) {
    this.maxMentionRate = maxMentionRate;
    this.maxRetainDrop = maxRetainDrop;
    this.maxPreviousMentionRate = maxPreviousMentionRate;
  }

  public static PublicationGate of(UnlearningSettings s) {
    return new PublicationGate(s.gateMaxParaphraseMentionRate(), s.gateMaxRetainDrop(), s.gateMaxPreviousMentionRate());
  }

  /** Empty when the adapter passes; otherwise why not, with the figures. */
  public Optional<String> refusal(Map<String, Double> metrics) {
    List<String> failures = new ArrayList<>();
    Double leak = metrics.get(Metrics.EVAL_LEAK);
    if (leak != null && !leak.isNaN()) {
      if (leak > maxMentionRate) {
        failures.add(String.format("concept still leaks (name, director or plot) on %.0f%% of the evaluation probes (gate %.0f%%)",
            100 * leak, 100 * maxMentionRate));
      }
    } else {
      Double mention = metrics.get(Metrics.DIRECT_MENTION);
      if (mention != null && !mention.isNaN() && mention > maxMentionRate) {
        failures.add(String.format("concept still mentioned on %.0f%% of the direct probes (gate %.0f%%)", 100 * mention,
            100 * maxMentionRate));
      }
    }
    Double agreement = metrics.get(Metrics.RETAIN_AGREEMENT);
    if (agreement != null && !agreement.isNaN() && 1 - agreement > maxRetainDrop + 1e-9) {
      failures.add(String.format("retain agreement with the base model dropped to %.1f%% (gate: at most %.1f points below 100%%)",
          100 * agreement, 100 * maxRetainDrop));
    }
    Double previous = metrics.get(Metrics.PREVIOUS_MENTION);
    if (previous != null && !previous.isNaN() && previous > maxPreviousMentionRate) {
      failures.add(String.format("a concept forgotten by an earlier version came back on %.0f%% of its probes (gate %.0f%%)",
          100 * previous, 100 * maxPreviousMentionRate));
    }
    return failures.isEmpty() ? Optional.empty() : Optional.of("publication gate failed: " + String.join("; ", failures));
  }
}
