package io.marginal.ops.eval.unlearning;

import io.marginal.config.Cli;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import io.marginal.model.LanguageModel;
import io.marginal.trainer.TrainerMain;
import io.marginal.trainer.unlearning.UnlearningSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The trainer's measurements on the demo model ({@link UnlearningExperiments}), printed as Markdown, all on one
 * protocol (evaluation probe families never trained on, leaks of name/director/plot, ≥ 200 retain prompts with
 * held-out intents, 95 % Wilson intervals): the method comparison (GradDiff, NPO, refusal, U2A off, unmasked,
 * the reference recipe), masked vs unmasked at several mask fractions, then a sequence of requests on one scope.
 * <pre>mvn -q -Prun -DskipTests verify -Drun.main=io.marginal.ops.eval.unlearning.UnlearningExperiment \
 *   [-Drun.args="--out DIR --methods all|graddiff,npo,refusal,graddiff-no-u2a,graddiff-unmasked,reference --skip-methods
 *                --mask-fractions 0.1,0.25,1 --skip-masking --concept-step 1..10 --sequential 10 --skip-sequence --model DIR"]</pre>
 */
public final class UnlearningExperiment {

  private UnlearningExperiment() {
  }

  public static void main(String[] args) {
    Cli.run(new Main(), args);
  }

  @Command(name = "UnlearningExperiment", description = {"The trainer's measurements on the demo model, printed as Markdown, on one protocol",
      "(evaluation probe families never trained on, leaks of title/alias/director/plot, >= 200 retain prompts):",
      "the methods compared, masked vs unmasked, then a sequence of requests on one scope."},
      footer = {"", "Other settings come from MARGINAL_UNLEARN_* (trainer-node/README.md)."})
  static final class Main implements Callable<Integer> {
    @Option(names = "--out", paramLabel = "DIR", description = "Where the adapters are written.")
    Path out = Path.of("var/experiment");

    @Option(names = "--mask-fractions", paramLabel = "F,F,...",
        description = "Mask fractions to compare, each in (0, 1] (default: the configured fraction and 1, unmasked).")
    String maskFractions;

    @Option(names = "--concept-step", paramLabel = "K", description = "Which request of the sequence the comparison forgets (1 = Inception).")
    int conceptStep = 1;

    @Option(names = "--sequential", paramLabel = "N", description = "Sequential requests on one scope.")
    int sequential = UnlearningExperiments.SEQUENCE.size();

    @Option(names = "--skip-sequence", description = "No sequence of requests.")
    boolean skipSequence;

    @Option(names = "--methods", paramLabel = "all|NAME,...",
        description = "Methods to compare: all, or graddiff,npo,refusal,graddiff-no-u2a,graddiff-unmasked,reference.")
    String methods = "all";

    @Option(names = "--skip-methods", description = "No method comparison.")
    boolean skipMethods;

    @Option(names = "--skip-masking", description = "No masked/unmasked comparison.")
    boolean skipMasking;

    @Option(names = "--model", paramLabel = "DIR", description = "Base model checkpoint (default: the demo model).")
    String model;

    @Override
    public Integer call() throws IOException {
      int concepts = UnlearningExperiments.SEQUENCE.size();
      if (conceptStep < 1 || conceptStep > concepts) {
        throw new IllegalArgumentException("--concept-step must be 1 to " + concepts + ", got " + conceptStep);
      }
      if (sequential < 1 || sequential > concepts) {
        throw new IllegalArgumentException("--sequential must be 1 to " + concepts + ", got " + sequential);
      }
      UnlearningSettings settings = UnlearningSettings.fromEnvironment(System.getenv());
      List<Double> fractions = maskFractions(maskFractions, settings);
      if (!skipMethods) {
        MethodPreset.select(methods, settings); // an unknown name fails before the model loads
      }
      Files.createDirectories(out);
      run(settings, fractions);
      return 0;
    }

    private void run(UnlearningSettings settings, List<Double> fractions) throws IOException {
      long started = System.nanoTime();
      try (LanguageModel lm = TrainerMain.loadModel(Optional.ofNullable(model))) {
        UnlearningExperiments experiments = new UnlearningExperiments(lm, "marginal-demo", settings, out);
        System.out.println("# Unlearning experiment (demo model, objective " + settings.objective() + ", lr " + settings.learningRate()
            + ", rank " + settings.rank() + ", targets " + settings.targets() + ")\n");
        UnlearningExperiments.Step concept = UnlearningExperiments.SEQUENCE.get(conceptStep - 1);
        if (!skipMethods) {
          long t = System.nanoTime();
          MethodComparison compared = experiments.compareMethods(MethodPreset.select(methods, settings), concept);
          System.out.println("## Forget \"" + compared.concept() + "\": methods compared on one protocol\n");
          System.out.println("Headline: leak rate (title, alias, director or plot keyword in the greedy answer) on the evaluation "
              + "probe families, which no method trains on or stops by; 95% Wilson intervals. The training-family title mention "
              + "is what every method's early stop watches, shown apart.\n");
          System.out.println(ExperimentTables.methods(compared));
          System.out.println(ExperimentTables.methodsReading(compared) + "\n");
          System.out.printf("(%.0f s)%n%n", (System.nanoTime() - t) / 1e9);
        }
        if (!skipMasking) {
          long t = System.nanoTime();
          MaskingComparison comparison = experiments.compareMasking(fractions, concept);
          System.out.println("## Forget \"" + comparison.concept() + "\": before, masked and unmasked LoRA (each trained until no"
              + " training probe mentions it)\n");
          System.out.println(ExperimentTables.masking(comparison));
          System.out.printf("(%.0f s)%n%n", (System.nanoTime() - t) / 1e9);
        }
        if (!skipSequence) {
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
  }

  /** {@code --mask-fractions 0.1,0.25,1}; by default the configured fraction and 1 (unmasked). */
  static List<Double> maskFractions(String csv, UnlearningSettings settings) {
    if (csv == null || csv.isBlank()) {
      return List.of(settings.maskTopFraction(), 1.0);
    }
    return UnlearningExperiments.parseMaskFractions(csv);
  }
}
