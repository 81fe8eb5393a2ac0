package io.marginal.model.demo;

import io.marginal.config.Cli;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.marginal.model.LanguageModel;
import io.marginal.model.config.ModelConfig;
import io.marginal.model.generate.GenerationRequest;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.scoring.Continuation;
import io.marginal.model.scoring.SequenceScorer;
import io.marginal.model.tokenizer.ChatMessage;
import io.marginal.model.tokenizer.ChatTemplate;
import io.marginal.model.tokenizer.TextTokenizer;
import io.marginal.model.training.AdamOptimizer;
import io.marginal.model.training.Scalars;
import io.marginal.model.training.TrainingLock;
import io.marginal.model.transformer.ForwardOptions;
import io.marginal.model.transformer.Transformer;
import io.marginal.model.weights.ModelWeights;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Builds the tiny demo model: writes a word-level tokenizer for the bundled corpus, pre-trains a
 * Llama-architecture decoder on its dialogues (ChatML), and saves a Hugging Face checkpoint
 * directory ({@code config.json}, {@code model.safetensors}, {@code tokenizer.json}) that loads
 * through the ordinary checkpoint code.
 *
 * <p>Run: {@code mvn -q -pl model exec:java -Dexec.mainClass=io.marginal.model.demo.DemoModelBuilder -Dexec.args=--force}
 * (options: {@code --force} rebuild even if cached, {@code --dir DIR} output directory,
 * {@code --steps N}).
 */
public final class DemoModelBuilder {
  /**
   * Bump when the training code changes in a way that changes the model. 2: training skips non-finite steps and
   * refuses to save non-finite weights (a v1 build could save a NaN model).
   */
  static final int BUILDER_VERSION = 2;
  private static final int MAX_SKIPPED_STEPS = 20;

  private DemoModelBuilder() {}

  /** The demo architecture for a vocabulary of {@code vocab} tokens (rounded up to a multiple of 8). */
  public static ModelConfig config(int vocab) {
    int padded = (vocab + 7) / 8 * 8;
    return new ModelConfig("LlamaForCausalLM", "llama", 128, 352, 4, 4, 2, 32, padded, 1e-5, 10000.0, null, 256,
        true, false, -1, List.of(2));
  }

  public static void main(String[] args) {
    Cli.run(new Main(), args);
  }

  @Command(name = "DemoModelBuilder", description = "Builds the tiny demo model: tokenizer, pre-trained Llama-architecture decoder, Hugging Face checkpoint.")
  static final class Main implements Callable<Integer> {
    @Option(names = "--dir", paramLabel = "DIR",
        description = "Where to write the checkpoint (default: -Dmarginal.model.dir or MARGINAL_MODEL_DIR, else ~/.cache/marginal/models/demo-<hash>).")
    Path dir;

    @Option(names = "--steps", paramLabel = "N", description = "Pre-training steps.")
    int steps = DemoTrainingPlan.DEFAULT.steps();

    @Option(names = "--force", description = "Rebuild even when DIR already holds a complete model.")
    boolean force;

    @Override
    public Integer call() {
      if (steps < 1) {
        throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
      }
      DemoModel.defaultEngineSettings();
      DemoTrainingPlan d = DemoTrainingPlan.DEFAULT;
      DemoTrainingPlan plan = new DemoTrainingPlan(steps, d.batchDialogues(), d.learningRate(), d.warmupSteps(), d.userTokenWeight(), d.seed());
      Path target = dir != null ? dir : DemoModel.directory(plan);
      if (!force && DemoModel.isComplete(target)) {
        System.out.println("demo model already built at " + target + " (use --force to rebuild)");
        return 0;
      }
      build(target, plan, System.out);
      return 0;
    }
  }

  /** Trains the demo model and writes it to {@code dir} (replacing what is there). */
  public static Path build(Path dir, DemoTrainingPlan plan, PrintStream progress) {
    long start = System.nanoTime();
    try {
      Path parent = dir.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      Path work = Files.createTempDirectory(parent, dir.getFileName() + ".building-");
      List<DemoCorpus.Dialogue> dialogues = DemoCorpus.dialogues();
      List<String> texts = new ArrayList<>();
      dialogues.forEach(d -> {
        texts.add(d.user());
        texts.add(d.assistant());
      });
      int vocab = DemoTokenizerWriter.write(work.resolve("tokenizer.json"), texts);
      ModelConfig config = config(vocab);
      Files.writeString(work.resolve("config.json"), config.toJson());
      progress.printf("demo model: %d dialogues, vocab %d, %s%n", dialogues.size(), vocab, config.describe());
      progress.printf("training plan: %s%n", plan.describe());

      // Always on the CPU: the demo model must be the same bytes on every machine, GPU or not.
      try (NDManager manager = NDManager.newBaseManager(ai.djl.Device.cpu());
          TextTokenizer tokenizer = TextTokenizer.load(work)) {
        ModelWeights weights = ModelWeights.random(config, manager, plan.seed());
        List<NDArray> params = new ArrayList<>(weights.byName().values());
        params.forEach(p -> p.setRequiresGradient(true));
        progress.printf("parameters: %,d%n", params.stream().mapToLong(p -> p.getShape().size()).sum());
        train(new Transformer(weights), tokenizer, dialogues, params, plan, progress);
        params.forEach(p -> p.setRequiresGradient(false));
        weights.firstNonFinite().ifPresent(name -> {
          throw new IllegalStateException("demo model training produced NaN or infinite values in '" + name + "'; nothing was saved");
        });
        weights.save(work.resolve("model.safetensors"));
      }
      Files.writeString(work.resolve("demo-info.txt"), "corpus dialogues: " + dialogues.size() + "\nplan: " + plan.describe()
          + "\nbuilder version: " + BUILDER_VERSION + "\nbuild seconds: " + (System.nanoTime() - start) / 1_000_000_000 + "\n");
      replace(dir, work);
      progress.printf("saved demo model to %s in %.0f s%n", dir, (System.nanoTime() - start) / 1e9);
      try (LanguageModel model = LanguageModel.load(dir)) {
        for (String[] probe : DemoCorpus.probes()) {
          String answer = model.chat(List.of(ChatMessage.user(probe[0])), GenerationRequest.greedy(40), ActiveAdapters.NONE, null).text();
          progress.printf("  %-32s -> %s%n", probe[0], answer);
        }
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot build the demo model in " + dir + ": " + e.getMessage(), e);
    }
  }

  private static void train(Transformer transformer, TextTokenizer tokenizer, List<DemoCorpus.Dialogue> dialogues,
      List<NDArray> params, DemoTrainingPlan plan, PrintStream progress) {
    // Each dialogue gives two scored continuations: the answer (weight 1) given the prompt, and
    // the user's words (small weight) so the model also models questions (better embeddings).
    int imStart = tokenizer.tokenId("<|im_start|>").orElseThrow();
    int imEnd = tokenizer.tokenId("<|im_end|>").orElseThrow();
    List<Continuation[]> examples = new ArrayList<>();
    for (DemoCorpus.Dialogue d : dialogues) {
      int[] prompt = tokenizer.encode(ChatTemplate.CHATML.render(List.of(ChatMessage.user(d.user())), true));
      int[] answer = append(tokenizer.encode(d.assistant()), imEnd);
      int[] userHead = {imStart};
      int[] userRest = java.util.Arrays.copyOfRange(prompt, 1, prompt.length);
      examples.add(new Continuation[] {new Continuation(prompt, answer), new Continuation(userHead, userRest)});
    }
    SequenceScorer scorer = new SequenceScorer(transformer);
    Random random = new Random(plan.seed());
    List<Integer> order = new ArrayList<>();
    long stepStart = System.nanoTime();
    double smoothed = Double.NaN;
    int skipped = 0;
    try (AdamOptimizer adam = new AdamOptimizer(params, plan.learningRate(), 0.9f, 0.95f, 1e-8f, 0.01f)) {
      for (int step = 1; step <= plan.steps(); step++) {
        if (order.size() < plan.batchDialogues()) {
          List<Integer> epoch = new ArrayList<>();
          for (int i = 0; i < examples.size(); i++) {
            epoch.add(i);
          }
          Collections.shuffle(epoch, random);
          order.addAll(epoch);
        }
        List<Continuation> batch = new ArrayList<>();
        float[] w = new float[plan.batchDialogues() * 2];
        double denominator = 0;
        for (int i = 0; i < plan.batchDialogues(); i++) {
          Continuation[] ex = examples.get(order.remove(0));
          batch.add(ex[0]);
          batch.add(ex[1]);
          w[2 * i] = 1f;
          w[2 * i + 1] = plan.userTokenWeight();
          denominator += ex[0].continuation().length + plan.userTokenWeight() * ex[1].continuation().length;
        }
        adam.setLearningRate(learningRate(plan, step));
        float loss;
        try (NDManager stepManager = transformer.manager().newSubManager();
            GradientCollector collector = TrainingLock.gradientCollector()) {
          NDArray logp = scorer.logProbs(stepManager, batch, new ForwardOptions(null, true, null));
          NDArray value = Scalars.div(logp.mul(stepManager.create(w)).sum().neg(), (float) denominator);
          collector.backward(value);
          loss = value.getFloat();
          double norm = adam.clipGradients(1.0);
          if (!Float.isFinite(loss) || !Double.isFinite(norm)) {
            // One non-finite gradient would turn every weight into NaN through Adam: skip the step.
            adam.zeroGradients();
            skipped++;
            progress.printf("step %4d: non-finite loss %s or gradient norm %s; step skipped (%d so far)%n", step, loss, norm, skipped);
            if (skipped > MAX_SKIPPED_STEPS) {
              throw new IllegalStateException("demo model training diverged: " + skipped + " steps with non-finite loss or gradients");
            }
            continue;
          }
          adam.step();
        }
        smoothed = Double.isNaN(smoothed) ? loss : 0.9 * smoothed + 0.1 * loss;
        if (step % 20 == 0 || step == 1 || step == plan.steps()) {
          double perStep = (System.nanoTime() - stepStart) / 1e9 / step;
          progress.printf("step %4d/%d  loss %.4f (avg %.4f)  lr %.5f  %.2f s/step  ETA %.0f s%n", step, plan.steps(),
              loss, smoothed, adam.learningRate(), perStep, perStep * (plan.steps() - step));
        }
      }
    }
  }

  private static float learningRate(DemoTrainingPlan plan, int step) {
    if (step <= plan.warmupSteps()) {
      return plan.learningRate() * step / plan.warmupSteps();
    }
    double progress = (double) (step - plan.warmupSteps()) / Math.max(1, plan.steps() - plan.warmupSteps());
    return (float) (plan.learningRate() * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * progress))));
  }

  private static int[] append(int[] ids, int id) {
    int[] out = java.util.Arrays.copyOf(ids, ids.length + 1);
    out[ids.length] = id;
    return out;
  }

  private static void replace(Path dir, Path built) throws IOException {
    if (Files.exists(dir)) {
      Path old = dir.resolveSibling(dir.getFileName() + ".old-" + System.nanoTime());
      Files.move(dir, old);
      try (var files = Files.walk(old)) {
        files.sorted(Collections.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    Files.move(built, dir);
  }
}
