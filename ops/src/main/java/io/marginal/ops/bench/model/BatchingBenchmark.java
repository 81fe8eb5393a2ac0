package io.marginal.ops.bench.model;

import io.marginal.config.Cli;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.ndarray.NDManager;
import io.marginal.model.LanguageModel;
import io.marginal.model.config.ModelConfig;
import io.marginal.model.tokenizer.TextTokenizer;
import io.marginal.model.weights.ModelWeights;
import io.marginal.model.demo.DemoCorpus;
import io.marginal.model.demo.DemoModel;
import io.marginal.model.generate.BatchingEngine;
import io.marginal.model.generate.GenerationRequest;
import io.marginal.model.generate.GenerationResult;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.tokenizer.ChatMessage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * Decode throughput of the continuous-batching engine against the batch-of-1 generator, in one
 * process, on the demo model (or a checkpoint given with {@code --model DIR}): for each batch size,
 * that many sequences are decoded together, each with no adapter, all with one shared adapter, or
 * each with a different per-user adapter (rank 8 on all projections), or the shared one and a
 * per-user one stacked; the baseline decodes the same sequences one after another. The kinds marked
 * "merged" run on an engine with the shared adapter merged into its weights
 * ({@link BatchingEngine#merge}): the requests name the same adapters, only their cost differs
 * ("none, merged" is a {@code :none} request there, served by the shared adapter's negated
 * factors); the stacked kind has an engine of its own too, so no kind's sets are evicted by
 * another's. Settings are interleaved per round (every kind of adapter in every round, so the
 * adapters' cost is not a drift of the machine's speed), medians reported, and each setting is
 * measured at 1 and 2 PyTorch intra-op threads. With {@code --hidden H} the model is the
 * demo's shape widened to hidden size {@code H} with random weights (ffn {@code 2.75·H}, heads of 64
 * with half as many kv heads, the demo tokenizer): how the costs move when the arithmetic, not the
 * fixed cost per native operation, dominates a step.
 *
 * <pre>
 *   mvn -q -Prun -DskipTests verify -Drun.main=io.marginal.ops.bench.model.BatchingBenchmark -Drun.args="--tokens 32 --rounds 5"
 * </pre>
 */
public final class BatchingBenchmark {
  private BatchingBenchmark() {}

  public static void main(String[] args) {
    Cli.run(new Main(), args);
  }

  @Command(name = "BatchingBenchmark", description = {"Decode tokens/s of the continuous-batching engine against the batch-of-1 generator,",
      "per batch size, with no adapter, one shared adapter (merged or not) and per-user adapters, at each intra-op thread count."})
  static final class Main implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "DIR", description = "A checkpoint directory (default: the demo model, built on first use).")
    Path model;

    @Option(names = "--hidden", paramLabel = "H",
        description = "Instead of the demo model: its shape widened to hidden size H (a multiple of 128), random weights.")
    Integer hidden;

    @Option(names = "--tokens", paramLabel = "N", description = "Tokens decoded per sequence.")
    int tokens = 32;

    @Option(names = "--rounds", paramLabel = "N", description = "Interleaved rounds (the median is reported).")
    int rounds = 5;

    @Option(names = "--batches", paramLabel = "N", split = ",", splitSynopsisLabel = ",", defaultValue = "1,4,8,16,32", description = "Batch sizes.")
    int[] batches;

    @Option(names = "--threads", paramLabel = "N", split = ",", splitSynopsisLabel = ",", defaultValue = "1,2", description = "PyTorch intra-op thread counts.")
    int[] threads;

    @Override
    public Integer call() throws Exception {
      if (tokens < 1 || rounds < 1 || java.util.Arrays.stream(batches).anyMatch(b -> b < 1)
          || java.util.Arrays.stream(threads).anyMatch(t -> t < 1)) {
        throw new IllegalArgumentException("--tokens, --rounds, --batches and --threads must be >= 1");
      }
      if (hidden != null && (hidden < 128 || hidden % 128 != 0 || model != null)) {
        throw new IllegalArgumentException("--hidden must be a multiple of 128, and not given with --model");
      }
      DemoModel.defaultEngineSettings();
      Path dir = model != null ? model : DemoModel.ensureBuilt();
      try (LanguageModel m = hidden == null ? LanguageModel.load(dir) : widened(dir, hidden)) {
        measure(m, tokens, rounds, batches, threads);
      }
      return 0;
    }
  }

  /** The demo's shape at hidden size {@code hidden}, random weights, with the demo model's tokenizer. */
  private static LanguageModel widened(Path demo, int hidden) {
    ModelConfig d = ModelConfig.read(demo);
    int heads = hidden / 64;
    ModelConfig c = new ModelConfig(d.architecture(), d.modelType(), hidden, hidden * 11 / 4, d.numHiddenLayers(), heads, heads / 2, 64,
        d.vocabSize(), d.rmsNormEps(), d.ropeTheta(), d.ropeScaling(), d.maxPositionEmbeddings(), d.tieWordEmbeddings(),
        d.attentionBias(), d.bosTokenId(), d.eosTokenIds());
    NDManager manager = NDManager.newBaseManager();
    return LanguageModel.of("demo-shape-" + hidden, manager, ModelWeights.random(c, manager, 7), TextTokenizer.load(demo));
  }

  private static void measure(LanguageModel model, int tokens, int rounds, int[] batches, int[] threads) throws Exception {
    int maxBatch = java.util.Arrays.stream(batches).max().orElse(1);
    List<LoraAdapter> users = new ArrayList<>();
    for (int i = 0; i < maxBatch; i++) {
      users.add(GenerationBenchmark.randomAdapter(model, "user-" + i, 100 + i));
    }
    LoraAdapter shared = GenerationBenchmark.randomAdapter(model, "shared", 99);
    List<int[]> probes = DemoCorpus.probes().stream().map(p -> model.encodeChat(List.of(ChatMessage.user(p[0])))).toList();
    GenerationRequest request = GenerationRequest.greedy(tokens).withStopTokenIds(List.of());
    System.out.printf(Locale.ROOT, "model %s: %s; %d tokens per sequence, median of %d interleaved rounds%n",
        model.name(), model.config().describe(), tokens, rounds);
    System.out.printf(Locale.ROOT, "host: %d CPU cores%n%n", Runtime.getRuntime().availableProcessors());
    System.out.println("| intra-op threads | batch | adapters | batch-of-1 tokens/s | batched tokens/s | ratio | batched ÷ batched none |"
        + " batch-of-1 tokens per CPU-s | batched tokens per CPU-s |");
    System.out.println("|---|---|---|---|---|---|---|---|---|");
    // three engines, so no kind's adapter sets push another kind's out of an engine's idle-set budget
    // (a set rebuilt inside a timed cell would count against the kind that lost it)
    try (BatchingEngine engine = model.newBatchingEngine(maxBatch); BatchingEngine stacked = model.newBatchingEngine(maxBatch);
        BatchingEngine merged = model.newBatchingEngine(maxBatch)) {
      merged.merge(ActiveAdapters.of(shared)).get();
      for (int t : threads) {
        JniUtils.setNumThreads(t);
        for (int b : batches) {
          List<int[]> prompts = new ArrayList<>();
          for (int i = 0; i < b; i++) {
            prompts.add(probes.get(i % probes.size()));
          }
          List<String> kinds = List.of("none", "shared", "shared, merged", "per-user", "shared + per-user",
              "shared + per-user, merged", "none, merged");
          List<List<ActiveAdapters>> setsOfKind = new ArrayList<>();
          List<BatchingEngine> engineOfKind = new ArrayList<>();
          for (String kind : kinds) {
            List<ActiveAdapters> sets = new ArrayList<>();
            for (int i = 0; i < b; i++) {
              sets.add(switch (kind.replace(", merged", "")) {
                case "none" -> ActiveAdapters.NONE;
                case "shared" -> ActiveAdapters.of(shared);
                case "per-user" -> ActiveAdapters.of(users.get(i));
                default -> ActiveAdapters.of(shared, users.get(i));
              });
            }
            setsOfKind.add(sets);
            engineOfKind.add(kind.endsWith("merged") ? merged : kind.equals("shared + per-user") ? stacked : engine);
            sequential(model, prompts, request, sets); // warm-up
            batched(engineOfKind.get(engineOfKind.size() - 1), prompts, request, sets);
          }
          // every round measures every kind, both ways, so a drift of the machine's speed moves all of them alike
          double[][] alone = new double[kinds.size()][rounds];
          double[][] together = new double[kinds.size()][rounds];
          double[][] aloneCpu = new double[kinds.size()][rounds];
          double[][] togetherCpu = new double[kinds.size()][rounds];
          for (int r = 0; r < rounds; r++) {
            for (int k = 0; k < kinds.size(); k++) {
              List<ActiveAdapters> sets = setsOfKind.get(k);
              long cpu = processCpuNanos();
              alone[k][r] = sequential(model, prompts, request, sets);
              aloneCpu[k][r] = prompts.size() * (double) tokens / seconds(processCpuNanos() - cpu); // stop ids are off: every row decodes `tokens`
              cpu = processCpuNanos();
              together[k][r] = batched(engineOfKind.get(k), prompts, request, sets);
              togetherCpu[k][r] = prompts.size() * (double) tokens / seconds(processCpuNanos() - cpu);
            }
          }
          double none = GenerationBenchmark.median(together[0]);
          for (int k = 0; k < kinds.size(); k++) {
            double a = GenerationBenchmark.median(alone[k]);
            double g = GenerationBenchmark.median(together[k]);
            System.out.printf(Locale.ROOT, "| %d | %d | %s | %.0f | %.0f | ×%.2f | ×%.2f | %.0f | %.0f |%n", t, b, kinds.get(k), a, g, g / a,
                g / none, GenerationBenchmark.median(aloneCpu[k]), GenerationBenchmark.median(togetherCpu[k]));
          }
        }
      }
    } finally {
      users.forEach(LoraAdapter::close);
      shared.close();
    }
  }

  /**
   * CPU time of this whole process (every thread: the engine's, the caller's, GC and JIT). On a
   * machine shared with other work, tokens per CPU-second move less than tokens per wall second.
   */
  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static double seconds(long nanos) {
    return Math.max(nanos, 1) / 1e9;
  }

  private static double sequential(LanguageModel model, List<int[]> prompts, GenerationRequest request, List<ActiveAdapters> sets) {
    long generated = 0;
    long start = System.nanoTime();
    for (int i = 0; i < prompts.size(); i++) {
      GenerationResult r = model.generate(prompts.get(i), request, sets.get(i), null);
      generated += r.tokens().length;
    }
    return generated * 1e9 / (System.nanoTime() - start);
  }

  private static double batched(BatchingEngine engine, List<int[]> prompts, GenerationRequest request, List<ActiveAdapters> sets)
      throws Exception {
    long start = System.nanoTime();
    List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      futures.add(engine.submit(prompts.get(i), request, sets.get(i), null));
    }
    long generated = 0;
    for (CompletableFuture<GenerationResult> f : futures) {
      generated += f.get().tokens().length;
    }
    return generated * 1e9 / (System.nanoTime() - start);
  }
}
