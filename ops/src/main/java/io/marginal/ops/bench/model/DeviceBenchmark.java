package io.marginal.ops.bench.model;

import io.marginal.config.Cli;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import ai.djl.Device;
import ai.djl.engine.Engine;
import io.marginal.model.LanguageModel;
import io.marginal.model.demo.DemoCorpus;
import io.marginal.model.demo.DemoModel;
import io.marginal.model.generate.GenerationRequest;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.lora.LoraConfig;
import io.marginal.model.scoring.Continuation;
import io.marginal.model.tokenizer.ChatMessage;
import io.marginal.model.training.LoraTrainingStep;
import io.marginal.model.transformer.ForwardOptions;
import io.marginal.model.transformer.ModuleHook;
import io.marginal.model.weights.Projection;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * CPU against GPU in one run: greedy decoding tokens/s and LoRA training steps/s of the demo model
 * (or the checkpoint given) on the CPU and, when PyTorch sees one (build with {@code -Pcuda}), on
 * {@code cuda:0}. The same work on each device: 6 chat prompts decoding a fixed number of tokens
 * (stop tokens ignored), and Adam steps of a rank-8 q/v LoRA over a batch of the 6 probe dialogues.
 *
 * <p>Run: {@code mvn -q -pl model exec:java -Dexec.mainClass=io.marginal.ops.bench.model.DeviceBenchmark}
 * (args: {@code [checkpointDir|demo] [tokensPerPrompt=64] [trainingSteps=20] [rounds=5]}; add
 * {@code -Pcuda} on a CUDA machine).
 */
public final class DeviceBenchmark {
  private DeviceBenchmark() {}

  record Figures(Device device, double tokensPerSecond, double stepsPerSecond) {}

  public static void main(String[] args) {
    Cli.run(new Main(), args);
  }

  @Command(name = "DeviceBenchmark", description = {"CPU against GPU (cuda:0, when PyTorch sees one; build with -Pcuda): greedy decoding",
      "tokens/s and LoRA training steps/s of the demo model or a checkpoint."})
  static final class Main implements Callable<Integer> {
    @Mixin
    CheckpointAndTokens model;

    @Parameters(index = "2", arity = "0..1", paramLabel = "STEPS", defaultValue = "20", description = "LoRA training steps.")
    int steps;

    @Parameters(index = "3", arity = "0..1", paramLabel = "ROUNDS", defaultValue = "5", description = "Rounds (the median is reported).")
    int rounds;

    @Override
    public Integer call() {
      if (model.tokens < 1 || steps < 1 || rounds < 1) {
        throw new IllegalArgumentException("TOKENS, STEPS and ROUNDS must be >= 1, got " + model.tokens + ", " + steps + ", " + rounds);
      }
      DemoModel.defaultEngineSettings();
      compare(model.directory(), model.tokens, steps, rounds);
      return 0;
    }
  }

  private static void compare(Path dir, int tokens, int steps, int rounds) {
    List<Device> devices = new ArrayList<>(List.of(Device.cpu()));
    if (Engine.getInstance().getGpuCount() > 0) {
      devices.add(Device.gpu(0));
    }
    System.out.printf("model %s; PyTorch %s sees %d GPU(s); %d prompts x %d tokens, %d training steps, median of %d rounds%n",
        dir, Engine.getInstance().getVersion(), Engine.getInstance().getGpuCount(), DemoCorpus.probes().size(), tokens,
        steps, rounds);
    List<Figures> results = new ArrayList<>();
    for (Device device : devices) {
      results.add(measure(dir, device, tokens, steps, rounds));
    }
    Figures cpu = results.get(0);
    System.out.println("| device | tokens/s (greedy decode) | LoRA training steps/s | ratio to CPU (decode / train) |");
    System.out.println("| --- | --- | --- | --- |");
    for (Figures f : results) {
      System.out.printf("| %s | %.1f | %.2f | %.2f / %.2f |%n", f.device(), f.tokensPerSecond(), f.stepsPerSecond(),
          f.tokensPerSecond() / cpu.tokensPerSecond(), f.stepsPerSecond() / cpu.stepsPerSecond());
    }
  }

  static Figures measure(Path dir, Device device, int tokens, int steps, int rounds) {
    try (LanguageModel model = LanguageModel.load(dir, device);
        LoraAdapter adapter = LoraAdapter.create("bench", 1, model.config(), LoraConfig.of(8, 16, 0, Projection.Q,
            Projection.V), model.manager(), 1)) {
      List<int[]> prompts = DemoCorpus.probes().stream().map(p -> model.encodeChat(List.of(ChatMessage.user(p[0])))).toList();
      List<Continuation> batch = DemoCorpus.probes().stream()
          .map(p -> model.chatContinuation(List.of(ChatMessage.user(p[0])), p[1])).toList();
      GenerationRequest request = GenerationRequest.greedy(tokens).withStopTokenIds(List.of());
      GenerationBenchmark.run(model, prompts, request, ActiveAdapters.NONE, 1); // warm-up
      double[] decode = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        decode[r] = GenerationBenchmark.run(model, prompts, request, ActiveAdapters.NONE, 1);
      }
      double[] train = new double[rounds];
      try (LoraTrainingStep trainer = LoraTrainingStep.adam(model.manager(), List.of(adapter), 1e-4f)) {
        ForwardOptions options = new ForwardOptions(ActiveAdapters.of(adapter), true, ModuleHook.NONE);
        trainer.step(step -> model.sequenceLogProbs(step, batch, options).mean().neg()); // warm-up
        for (int r = 0; r < rounds; r++) {
          long start = System.nanoTime();
          for (int s = 0; s < steps; s++) {
            trainer.step(step -> model.sequenceLogProbs(step, batch, options).mean().neg());
          }
          train[r] = steps * 1e9 / (System.nanoTime() - start);
        }
      }
      Figures f = new Figures(device, GenerationBenchmark.median(decode), GenerationBenchmark.median(train));
      System.out.printf("%s: %.1f tokens/s (range %s), %.2f training steps/s (range %s)%n", device, f.tokensPerSecond(),
          GenerationBenchmark.range(decode), f.stepsPerSecond(), GenerationBenchmark.range(train));
      return f;
    }
  }
}
