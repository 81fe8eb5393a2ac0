package io.marginal.ops.eval.unlearning;

import java.util.ArrayList;
import java.util.List;

/**
 * Sequential unlearning requests on one adapter scope, each continuing the last published version.
 *
 * @param rows         one per request, in order
 * @param fixedPrompts size of the fixed retain prompt set the agreement curve is measured on
 * @param bound        the stated lower bound on that agreement after every request
 */
public record SequenceRun(List<Row> rows, int fixedPrompts, double bound) {

  public SequenceRun {
    rows = List.copyOf(rows);
  }

  /**
   * One request of the sequence.
   *
   * @param index              1-based position
   * @param concept            what the request asked to forget
   * @param prompt             its first forget prompt
   * @param published          whether the version passed the publication gate
   * @param servedVersion      the version served after this request (0 = none yet)
   * @param gateRefusal        the gate's reason when it refused, else null
   * @param paraphraseMention  the concept's mention rate on paraphrased probes after training (null if not measured)
   * @param heldOutMention     title mention on the evaluation families (never trained on)
   * @param evalLeak           leak (name, director, plot) on the evaluation families: the headline
   * @param earlierMention     the worst mention rate of concepts forgotten by earlier versions (null for the first)
   * @param jobRetainAgreement retain agreement measured by the job itself (its retain set, film prompts included)
   * @param fixedAgreement     agreement with the base on the fixed prompt set, of the version served after this request
   * @param fixedPerplexityRatio perplexity ratio on the fixed set, of the served version
   * @param steps              optimiser steps
   * @param seconds            wall time of the job
   */
  public record Row(int index, String concept, String prompt, boolean published, int servedVersion, String gateRefusal,
                    Double paraphraseMention, Double heldOutMention, Double evalLeak, Double earlierMention, Double jobRetainAgreement,
                    double fixedAgreement, double fixedPerplexityRatio, double steps, double seconds) {}

  /** Agreement on the fixed set before the first request (1) and after each request. */
  public List<Double> agreementCurve() {
    List<Double> curve = new ArrayList<>();
    curve.add(1.0);
    rows.forEach(r -> curve.add(r.fixedAgreement()));
    return curve;
  }

  public double worstAgreement() {
    return agreementCurve().stream().mapToDouble(Double::doubleValue).min().orElse(1);
  }

  public boolean boundHolds() {
    return worstAgreement() >= bound;
  }

  public long refused() {
    return rows.stream().filter(r -> !r.published()).count();
  }
}
