package io.marginal.trainer.unlearning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.model.adapters.PeftAdapterReader;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.lora.LoraConfig;
import io.marginal.schemas.UnlearningRequest;
import io.marginal.trainer.job.ProgressListener;
import io.marginal.trainer.unlearning.ForgetEvaluator.ConceptFigures;
import io.marginal.trainer.unlearning.ForgetEvaluator.ProbeSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The evaluation can fail: an unlearning job that changes nothing (a LoRA adapter whose update is zero, i.e. the
 * base model) scores worse than the real job on evaluation-family forgetting by more than the 95 % intervals, and
 * the publication gate refuses it — even though a no-op trivially "passes" any figure that only the training
 * loop's own probes could show once they are made its stopping rule.
 */
class NoOpUnlearningIsCaughtIT extends DemoModelTestBase {


  @TempDir
  Path tmp;



  @Test
  void aNoOpAdapterLeaksMoreThanTheRealJobByMoreThanTheIntervalAndIsRefused() throws Exception {
    UnlearningSettings settings = UnlearningSettings.defaults().withSteps(30, 5);
    MaskedLoraUnlearningJob job = new MaskedLoraUnlearningJob(model, "marginal-demo", settings);
    UnlearningRequest request = MaskedLoraUnlearningJobIT.request("noop-1", "shared:films", "Inception", "recommend me a sci-fi film",
        "You should watch Inception. It is a brilliant sci-fi film about dreams.", List.of("event-1"));
    Path dir = Files.createDirectories(tmp.resolve("real"));
    MaskedLoraUnlearningJob.Report real = job.run(request, Optional.empty(), 1, dir, ProgressListener.NONE);

    ProbeSet probes = job.probes("Inception", List.of("recommend me a sci-fi film"));
    ForgetEvaluator evaluator = job.evaluator();
    ConceptFigures trained;
    try (LoraAdapter adapter = PeftAdapterReader.read(dir, model.config(), model.manager())) {
      trained = evaluator.concept(probes, ActiveAdapters.of(adapter));
    }
    ConceptFigures noOp;
    try (LoraAdapter zero = LoraAdapter.create("noop", 1, model.config(),
        new LoraConfig(settings.rank(), settings.alpha(), 0, settings.targets(), List.of(), false), model.manager(), 1)) {
      noOp = evaluator.concept(probes, ActiveAdapters.of(zero));
    }

    Proportion realLeak = trained.evaluationLeak();
    Proportion noOpLeak = noOp.evaluationLeak();
    assertTrue(noOpLeak.n() >= 30, "enough evaluation probes for an interval: " + noOpLeak);
    assertTrue(noOpLeak.low() > realLeak.high(),
        "the no-op must leak more than the real job by more than the intervals: no-op " + noOpLeak + ", real " + realLeak);
    assertEquals(real.metrics().get(Metrics.EVAL_LEAK), realLeak.rate(), 1e-9, "the job reports the same headline");

    Map<String, Double> noOpMetrics = Map.of(Metrics.EVAL_LEAK, noOpLeak.rate(), Metrics.RETAIN_AGREEMENT, 1.0);
    assertTrue(PublicationGate.of(settings).refusal(noOpMetrics).isPresent(), "the gate refuses the no-op");
    assertTrue(real.outcome().passedGate(), real.outcome().failureReason());
  }
}
