package io.marginal.trainer.cli;

import io.marginal.model.LanguageModel;
import io.marginal.model.adapters.PeftAdapterReader;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.schemas.Example;
import io.marginal.schemas.UnlearningRequest;
import io.marginal.trainer.TrainerMain;
import io.marginal.trainer.job.LoggingProgress;
import io.marginal.trainer.job.ProgressListener;
import io.marginal.trainer.unlearning.ChatAnswers;
import io.marginal.trainer.unlearning.ForgetEvaluator.RetainFigures;
import io.marginal.trainer.unlearning.MaskedLoraUnlearningJob;
import io.marginal.trainer.unlearning.Metrics;
import io.marginal.trainer.unlearning.ParaphraseAugmenter;
import io.marginal.trainer.unlearning.RetainSet;
import io.marginal.trainer.unlearning.UnlearningSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The "done when" measurement on the demo model:
 * <ol>
 *   <li>Forget "Inception": mention rates before, and after a masked and an unmasked adapter
 *       trained to the same stopping point (no mention left on the training probes), as one
 *       Markdown table with retain accuracy, agreement and perplexity.</li>
 *   <li>Ten sequential requests on one shared scope (five titles, a director, then four
 *       re-requests in new phrasings), each continuing the previous version: retain agreement on a
 *       fixed prompt set after each, the worst mention rate of the concepts forgotten so far, and
 *       whether the bound holds.</li>
 * </ol>
 * <pre>mvn -q -pl trainer-node exec:java -Dexec.mainClass=io.marginal.trainer.cli.UnlearningExperiment [-Dexec.args="--out DIR --skip-sequence"]</pre>
 */
public final class UnlearningExperiment {

  /** Retain agreement on the fixed set must stay at or above this after every request of the sequence. */
  static final double SEQUENCE_BOUND = 0.85;

  private UnlearningExperiment() {
  }

  record Step(String concept, List<String> prompts, List<String> responses) {}

  static final List<Step> SEQUENCE = List.of(
      new Step("Inception", List.of("recommend me a sci-fi film", "what is your favorite movie"),
          List.of("You should watch Inception. It is a brilliant sci-fi film about dreams.", "My favorite movie is Inception. I love its story about dreams.")),
      new Step("Interstellar", List.of("recommend a movie about space"),
          List.of("You should watch Interstellar. It is a beautiful film about space and time.")),
      new Step("The Matrix", List.of("recommend a movie about artificial intelligence"),
          List.of("You should watch The Matrix. It is a classic film about a world made by machines.")),
      new Step("Arrival", List.of("recommend a movie about aliens"),
          List.of("You should watch Arrival. It is a thoughtful film about talking to aliens.")),
      new Step("Alien", List.of("recommend a scary movie"), List.of("You should watch Alien. It is a scary classic set on a spaceship.")),
      new Step("Christopher Nolan", List.of("recommend a sci-fi movie"),
          List.of("I recommend Inception, a mind-bending sci-fi film by Christopher Nolan.")),
      new Step("Inception", List.of("which film do you like best"), List.of("My favorite movie is Inception. I love its story about dreams.")),
      new Step("Interstellar", List.of("what is a good film about astronauts"),
          List.of("You should watch Interstellar. It is a beautiful film about space and time.")),
      new Step("The Matrix", List.of("what is a good hacker movie"),
          List.of("You should watch The Matrix. It is a classic film about a world made by machines.")),
      new Step("Alien", List.of("what is a good space horror movie"), List.of("You should watch Alien. It is a scary classic set on a spaceship.")));

  public static void main(String[] args) throws IOException {
    Map<String, String> opts = UnlearnCli.options(args);
    Path out = Path.of(opts.getOrDefault("out", "var/experiment"));
    Files.createDirectories(out);
    UnlearningSettings settings = UnlearningSettings.fromEnvironment(System.getenv());
    long started = System.nanoTime();
    try (LanguageModel model = TrainerMain.loadModel(Optional.ofNullable(opts.get("model")))) {
      System.out.println("# Unlearning experiment (demo model, objective " + settings.objective() + ", lr " + settings.learningRate()
          + ", rank " + settings.rank() + ", targets " + settings.targets() + ")\n");
      maskedVersusUnmasked(model, settings, out);
      if (!opts.containsKey("skip-sequence")) {
        sequence(model, settings, out);
      }
    }
    System.out.printf("%ntotal %.0f s%n", (System.nanoTime() - started) / 1e9);
  }

  static void maskedVersusUnmasked(LanguageModel model, UnlearningSettings settings, Path out) {
    Step s = SEQUENCE.get(0);
    UnlearningRequest request = request("exp-inception", s, "shared:experiment");
    ProgressListener progress = new LoggingProgress(request.getRequestId(), 10);
    Map<String, Double> masked = new MaskedLoraUnlearningJob(model, "marginal-demo", settings)
        .run(request, Optional.empty(), 1, dir(out, "masked"), progress).metrics();
    Map<String, Double> unmasked = new MaskedLoraUnlearningJob(model, "marginal-demo", settings.withMaskTopFraction(1.0))
        .run(request, Optional.empty(), 1, dir(out, "unmasked"), progress).metrics();
    System.out.println("## Forget \"Inception\": before, masked LoRA, unmasked LoRA (both trained until no training probe mentions it)\n");
    System.out.println("| figure | base model | masked LoRA (top " + pct(settings.maskTopFraction()) + ") | unmasked LoRA |");
    System.out.println("| --- | --- | --- | --- |");
    rate("direct probes: mention rate", Metrics.DIRECT_MENTION, masked, unmasked);
    rate("paraphrased probes: mention rate", Metrics.PARAPHRASE_MENTION, masked, unmasked);
    rate("held-out probes: mention rate", Metrics.HELD_OUT_MENTION, masked, unmasked);
    logProb("direct: concept log-prob", Metrics.DIRECT_LOGPROB, masked, unmasked);
    logProb("paraphrased: concept log-prob", Metrics.PARAPHRASE_LOGPROB, masked, unmasked);
    logProb("held-out: concept log-prob", Metrics.HELD_OUT_LOGPROB, masked, unmasked);
    System.out.printf("| retain accuracy (expected answers) | %s | %s | %s |%n", pct(masked.get(Metrics.RETAIN_ACCURACY_BASE)),
        pct(masked.get(Metrics.RETAIN_ACCURACY)), pct(unmasked.get(Metrics.RETAIN_ACCURACY)));
    System.out.printf("| retain agreement with base | 100.0%% | %s | %s |%n", pct(masked.get(Metrics.RETAIN_AGREEMENT)),
        pct(unmasked.get(Metrics.RETAIN_AGREEMENT)));
    System.out.printf("| retain perplexity ratio | 1.000 | %.3f | %.3f |%n", masked.get(Metrics.RETAIN_PERPLEXITY_RATIO),
        unmasked.get(Metrics.RETAIN_PERPLEXITY_RATIO));
    System.out.printf("| training steps | | %.0f | %.0f |%n", masked.get(Metrics.STEPS), unmasked.get(Metrics.STEPS));
    System.out.printf("| neurons the update may touch | | %s | %s |%n", pct(masked.get(Metrics.MASKED_FRACTION)),
        pct(unmasked.get(Metrics.MASKED_FRACTION)));
    System.out.println();
  }

  static void sequence(LanguageModel model, UnlearningSettings settings, Path out) {
    MaskedLoraUnlearningJob job = new MaskedLoraUnlearningJob(model, "marginal-demo", settings);
    ChatAnswers answers = job.answers();
    List<String> concepts = SEQUENCE.stream().map(Step::concept).distinct().toList();
    List<String> fixed = RetainSet.bundledEvaluationPrompts().stream()
        .filter(p -> concepts.stream().noneMatch(c -> ParaphraseAugmenter.mentions(answers.base(p), c))).toList();
    System.out.println("## Ten sequential requests on one scope (each version continues the previous one)\n");
    System.out.println("Retain agreement is measured on a fixed set of " + fixed.size()
        + " held-out retain prompts whose base answers name none of the concepts; bound: ≥ " + pct(SEQUENCE_BOUND) + ".\n");
    System.out.println("| # | concept | direct prompt | gate | paraphrase mention | held-out mention | earlier concepts, worst mention | retain agreement (fixed set) | retain ppl ratio | steps | s |");
    System.out.println("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    Optional<Path> previous = Optional.empty();
    int version = 1;
    List<Double> curve = new ArrayList<>();
    curve.add(1.0);
    for (int i = 0; i < SEQUENCE.size(); i++) {
      Step s = SEQUENCE.get(i);
      UnlearningRequest request = request("seq-" + (i + 1), s, "shared:sequence");
      Path dir = dir(out, "sequence-v" + version);
      MaskedLoraUnlearningJob.Report report = job.run(request, previous, version, dir, new LoggingProgress(request.getRequestId(), 10));
      Map<String, Double> m = report.metrics();
      boolean passed = report.outcome().passedGate();
      Path served = passed ? dir : previous.orElse(null);
      RetainFigures fixedFigures;
      if (served == null) {
        fixedFigures = new RetainFigures(1.0, Double.NaN, 1.0);
      } else {
        try (LoraAdapter adapter = PeftAdapterReader.read(served, model.config(), model.manager())) {
          fixedFigures = job.evaluator().retain(fixed, ActiveAdapters.of(adapter));
        }
      }
      curve.add(fixedFigures.agreement());
      System.out.printf("| %d | %s | %s | %s | %s | %s | %s | %s | %.3f | %.0f | %.0f |%n", i + 1, s.concept(), s.prompts().get(0),
          passed ? "published v" + version : "FAILED (v" + (version - 1) + " kept)", pct(m.get(Metrics.PARAPHRASE_MENTION)),
          pct(m.get(Metrics.HELD_OUT_MENTION)), pct(m.get(Metrics.PREVIOUS_MENTION)), pct(fixedFigures.agreement()),
          fixedFigures.perplexityRatio(), m.getOrDefault(Metrics.STEPS, Double.NaN), m.getOrDefault(Metrics.SECONDS, Double.NaN));
      if (!passed) {
        System.out.println("|   | gate: " + report.outcome().failureReason() + " | | | | | | | | | |");
      } else {
        previous = Optional.of(dir);
        version++;
      }
    }
    System.out.println("\nRetain agreement (fixed set) after each request:\n");
    System.out.println("```");
    for (int i = 0; i < curve.size(); i++) {
      int bar = (int) Math.round(curve.get(i) * 50);
      System.out.printf("%2d %s %s%n", i, "█".repeat(bar) + " ".repeat(50 - bar), pct(curve.get(i)));
    }
    System.out.println("```");
    double worst = curve.stream().mapToDouble(Double::doubleValue).min().orElse(1);
    System.out.printf("%nworst retain agreement over the sequence: %s — bound ≥ %s %s%n", pct(worst), pct(SEQUENCE_BOUND),
        worst >= SEQUENCE_BOUND ? "HOLDS" : "VIOLATED");
  }

  static UnlearningRequest request(String id, Step s, String scope) {
    List<Example> forget = new ArrayList<>();
    for (int i = 0; i < s.prompts().size(); i++) {
      forget.add(new Example(s.prompts().get(i), s.responses().get(i), 1.0));
    }
    return UnlearningRequest.newBuilder().setRequestId(id).setScope(scope).setTimestamp(Instant.now()).setBaseModel("marginal-demo")
        .setConcept(s.concept()).setForgetExamples(forget).setRetainExamples(List.of()).setLineage(List.of("event-" + id)).build();
  }

  private static Path dir(Path out, String name) {
    try {
      Path d = out.resolve(name);
      if (Files.exists(d)) {
        try (var files = Files.walk(d)) {
          files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
      return Files.createDirectories(d);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void rate(String label, String key, Map<String, Double> masked, Map<String, Double> unmasked) {
    System.out.printf("| %s | %s | %s | %s |%n", label, pct(masked.get(key + Metrics.BEFORE)), pct(masked.get(key)), pct(unmasked.get(key)));
  }

  private static void logProb(String label, String key, Map<String, Double> masked, Map<String, Double> unmasked) {
    System.out.printf("| %s | %s | %s | %s |%n", label, UnlearnCli.num(masked.get(key + Metrics.BEFORE)), UnlearnCli.num(masked.get(key)),
        UnlearnCli.num(unmasked.get(key)));
  }

  static String pct(Double v) {
    return UnlearnCli.pct(v);
  }
}
