package io.marginal.trainer.cli;

import io.marginal.model.LanguageModel;
import io.marginal.trainer.TrainerMain;
import io.marginal.trainer.experiment.ExperimentTables;
import io.marginal.trainer.experiment.MaskingComparison;
import io.marginal.trainer.experiment.MethodComparison;
import io.marginal.trainer.experiment.MethodPreset;
import io.marginal.trainer.experiment.SequenceRun;
import io.marginal.trainer.experiment.UnlearningExperiments;
import io.marginal.trainer.unlearning.UnlearningSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The trainer's measurements on the demo model ({@link UnlearningExperiments}), printed as Markdown, all on one
 * protocol (evaluation probe families never trained on, leaks of name/director/plot, ≥ 200 retain prompts with
 * held-out intents, 95 % Wilson intervals): the method comparison (GradDiff, NPO, refusal, U2A off, unmasked,
 * the reference recipe), masked vs unmasked at several mask fractions, then a sequence of requests on one scope.
 * <pre>mvn -q -Prun -DskipTests verify -Drun.main=io.marginal.trainer.cli.UnlearningExperiment \
 *   [-Drun.args="--out DIR --methods all|graddiff,npo,refusal,graddiff-no-u2a,graddiff-unmasked,reference --skip-methods
 *                --mask-fractions 0.1,0.25,1 --skip-masking --concept-step 1..10 --sequential 10 --skip-sequence --model DIR"]</pre>
 */
public final class UnlearningExperiment {

  private UnlearningExperiment() {
  }

  public static void main(String[] args) throws IOException {
    Map<String, String> opts = UnlearnCli.options(args);
    Path out = Path.of(opts.getOrDefault("out", "var/experiment"));
    Files.createDirectories(out);
    UnlearningSettings settings = UnlearningSettings.fromEnvironment(System.getenv());
    List<Double> fractions = maskFractions(opts.get("mask-fractions"), settings);
    int sequential = Integer.parseInt(opts.getOrDefault("sequential", String.valueOf(UnlearningExperiments.SEQUENCE.size())));
    long started = System.nanoTime();
    try (LanguageModel model = TrainerMain.loadModel(Optional.ofNullable(opts.get("model")))) {
      UnlearningExperiments experiments = new UnlearningExperiments(model, "marginal-demo", settings, out);
      System.out.println("# Unlearning experiment (demo model, objective " + settings.objective() + ", lr " + settings.learningRate()
          + ", rank " + settings.rank() + ", targets " + settings.targets() + ")\n");
      int step = Integer.parseInt(opts.getOrDefault("concept-step", "1"));
      if (step < 1 || step > UnlearningExperiments.SEQUENCE.size()) {
        throw new IllegalArgumentException("--concept-step must be 1 to " + UnlearningExperiments.SEQUENCE.size() + ", got " + step);
      }
      UnlearningExperiments.Step concept = UnlearningExperiments.SEQUENCE.get(step - 1);
      if (!opts.containsKey("skip-methods")) {
        long t = System.nanoTime();
        MethodComparison methods = experiments.compareMethods(MethodPreset.select(opts.get("methods"), settings), concept);
        System.out.println("## Forget \"" + methods.concept() + "\": methods compared on one protocol\n");
        System.out.println("Headline: leak rate (title, alias, director or plot keyword in the greedy answer) on the evaluation "
            + "probe families, which no method trains on or stops by; 95% Wilson intervals. The training-family title mention "
            + "is what every method's early stop watches, shown apart.\n");
        System.out.println(ExperimentTables.methods(methods));
        System.out.println(ExperimentTables.methodsReading(methods) + "\n");
        System.out.printf("(%.0f s)%n%n", (System.nanoTime() - t) / 1e9);
      }
      if (!opts.containsKey("skip-masking")) {
        long t = System.nanoTime();
        MaskingComparison comparison = experiments.compareMasking(fractions, concept);
        System.out.println("## Forget \"" + comparison.concept() + "\": before, masked and unmasked LoRA (each trained until no"
            + " training probe mentions it)\n");
        System.out.println(ExperimentTables.masking(comparison));
        System.out.printf("(%.0f s)%n%n", (System.nanoTime() - t) / 1e9);
      }
      if (!opts.containsKey("skip-sequence")) {
        SequenceRun run = experiments.sequence(sequential);
        System.out.println("## " + sequential + " sequential requests on one scope (each version continues the previous one)\n");
        System.out.println("Retain agreement is measured on a fixed set of " + run.fixedPrompts()
            + " held-out retain prompts whose base answers name none of the concepts; bound: ≥ " + ExperimentTables.pct(run.bound()) + ".\n");
        System.out.println(ExperimentTables.sequence(run));
        System.out.println("Retain agreement (fixed set) after each request:\n");
        System.out.println(ExperimentTables.agreementCurve(run));
      }
    }
    System.out.printf("%ntotal %.0f s%n", (System.nanoTime() - started) / 1e9);
  }

  /** {@code --mask-fractions 0.1,0.25,1}; by default the configured fraction and 1 (unmasked). */
  static List<Double> maskFractions(String csv, UnlearningSettings settings) {
    if (csv == null || csv.isBlank()) {
      return List.of(settings.maskTopFraction(), 1.0);
    }
    return UnlearningExperiments.parseMaskFractions(csv);
  }
}
