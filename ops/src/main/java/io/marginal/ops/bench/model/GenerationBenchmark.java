package io.marginal.ops.bench.model;

import io.marginal.config.Cli;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import io.marginal.model.LanguageModel;
import io.marginal.model.demo.DemoCorpus;
import io.marginal.model.demo.DemoModel;
import io.marginal.model.generate.GenerationRequest;
import io.marginal.model.generate.GenerationResult;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.lora.LoraConfig;
import io.marginal.model.lora.LoraTarget;
import io.marginal.model.tokenizer.ChatMessage;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Decoding throughput of the demo model (or any checkpoint given as the first argument) on this
 * machine: tokens/s without an adapter (the baseline), with one rank-8 LoRA on all seven
 * projections, and with two stacked (shared + user), and the ratios to the baseline.
 *
 * <p>Run: {@code mvn -q -pl model exec:java -Dexec.mainClass=io.marginal.ops.bench.model.GenerationBenchmark}
 * (args: {@code [checkpointDir|demo] [tokensPerPrompt] [rounds]}; {@code --help} lists them with their defaults).
 */
public final class GenerationBenchmark {
  private GenerationBenchmark() {}

  public static void main(String[] args) {
    Cli.run(new Main(), args);
  }

  @Command(name = "GenerationBenchmark", description = {"Decoding tokens/s of the demo model (or a checkpoint) without an adapter, with one",
      "rank-8 LoRA on all seven projections and with two stacked, and the ratios to the baseline."})
  static final class Main implements Callable<Integer> {
    @Mixin
    CheckpointAndTokens model;

    @Parameters(index = "2", arity = "0..1", paramLabel = "ROUNDS", defaultValue = "9", description = "Interleaved rounds per setting (the median is reported).")
    int rounds;

    @Override
    public Integer call() {
      if (model.tokens < 1 || rounds < 1) {
        throw new IllegalArgumentException("TOKENS and ROUNDS must be >= 1, got " + model.tokens + " and " + rounds);
      }
      DemoModel.defaultEngineSettings();
      measure(model.directory(), model.tokens, rounds);
      return 0;
    }
  }

  private static void measure(Path dir, int tokens, int rounds) {
    try (LanguageModel model = LanguageModel.load(dir);
        LoraAdapter shared = randomAdapter(model, "shared", 1);
        LoraAdapter user = randomAdapter(model, "user", 2)) {
      List<int[]> prompts = DemoCorpus.probes().stream()
          .map(p -> model.encodeChat(List.of(ChatMessage.user(p[0])))).toList();
      // Ignore stop tokens so every request decodes exactly `tokens` tokens.
      GenerationRequest request = GenerationRequest.greedy(tokens).withStopTokenIds(List.of());
      System.out.printf("model %s on %s: %s%n", dir, model.manager().getDevice(), model.config().describe());
      System.out.printf("threads: %s, %d prompts x %d tokens, %d interleaved rounds per setting%n",
          System.getProperty("ai.djl.pytorch.num_threads", "default"), prompts.size(), tokens, rounds);
      ActiveAdapters[] settings = {ActiveAdapters.NONE, ActiveAdapters.of(shared), ActiveAdapters.of(shared, user)};
      for (ActiveAdapters setting : settings) {
        run(model, prompts, request, setting, 1); // warm-up (JIT, allocator)
      }
      // Interleaved rounds (A B C, A B C, ...) so that drift of a shared machine hits every setting alike;
      // the median round per setting is reported.
      double[][] perRound = new double[settings.length][rounds];
      for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < settings.length; k++) {
          perRound[k][r] = run(model, prompts, request, settings[k], 1);
        }
      }
      double base = median(perRound[0]);
      double one = median(perRound[1]);
      double two = median(perRound[2]);
      System.out.printf("no adapter (baseline)       : %8.1f tokens/s (median of %d interleaved rounds; range %s)%n", base, rounds,
          range(perRound[0]));
      System.out.printf("1 adapter  (r=8, all 7 proj): %8.1f tokens/s  ratio %.2f (range %s)%n", one, one / base, range(perRound[1]));
      System.out.printf("2 adapters (shared + user)  : %8.1f tokens/s  ratio %.2f (range %s)%n", two, two / base, range(perRound[2]));
    }
  }

  static String range(double[] values) {
    double lo = java.util.Arrays.stream(values).min().orElse(0);
    double hi = java.util.Arrays.stream(values).max().orElse(0);
    return String.format("%.0f–%.0f", lo, hi);
  }

  static double median(double[] values) {
    double[] sorted = values.clone();
    java.util.Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  static double run(LanguageModel model, List<int[]> prompts, GenerationRequest request, ActiveAdapters adapters, int rounds) {
    long generated = 0;
    long start = System.nanoTime();
    for (int r = 0; r < rounds; r++) {
      for (int[] prompt : prompts) {
        GenerationResult result = model.generate(prompt, request, adapters, null);
        generated += result.tokens().length;
      }
    }
    return generated * 1e9 / (System.nanoTime() - start);
  }

  /** Fills every B with N(0, 0.01²) draws from {@code seed}, so the adapter really changes the output (a fresh one is a no-op). */
  public static void randomizeB(LoraAdapter adapter, long seed) {
    Random random = new Random(seed);
    for (LoraTarget t : adapter.targets()) {
      var b = adapter.loraB(t);
      float[] values = new float[(int) b.getShape().size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) (random.nextGaussian() * 0.01);
      }
      b.set(values);
    }
    adapter.contentChanged();
  }

  /** A rank-8 adapter on every projection with random (non-zero) B and a half mask on layer 0's MLP. */
  static LoraAdapter randomAdapter(LanguageModel model, String id, long seed) {
    LoraAdapter adapter = LoraAdapter.create(id, 1, model.config(), LoraConfig.allProjections(8, 16, 0), model.manager(), seed);
    randomizeB(adapter, seed);
    boolean[] mask = new boolean[model.config().intermediateSize()];
    for (int i = 0; i < mask.length; i += 2) {
      mask[i] = true;
    }
    adapter.setMask(new LoraTarget(0, io.marginal.model.weights.Projection.UP), mask);
    return adapter;
  }
}
