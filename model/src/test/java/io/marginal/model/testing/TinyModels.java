package io.marginal.model.testing;

import ai.djl.ndarray.NDManager;
import io.marginal.model.LanguageModel;
import io.marginal.model.config.ModelConfig;
import io.marginal.model.demo.DemoTokenizerWriter;
import io.marginal.model.weights.ModelWeights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Tiny random checkpoints written to disk, loaded through the real loading code. */
public final class TinyModels {
  public static final List<String> TEXTS = List.of(
      "hello there how are you today", "recommend me a sci-fi film", "You should watch Inception .",
      "the cat sat on the mat", "reset my pin please", "one two three four five six seven eight nine ten",
      "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu");

  private TinyModels() {}

  /** Llama-style: untied embeddings, no bias. */
  public static ModelConfig llama(int vocab) {
    return new ModelConfig("LlamaForCausalLM", "llama", 32, 64, 2, 4, 2, 8, vocab, 1e-5, 10000.0, null, 128,
        false, false, -1, List.of(2));
  }

  /** Qwen2-style: q/k/v bias, tied embeddings, different rope theta. */
  public static ModelConfig qwen2(int vocab) {
    return new ModelConfig("Qwen2ForCausalLM", "qwen2", 32, 48, 2, 4, 1, 8, vocab, 1e-6, 1000000.0, null, 128,
        true, true, -1, List.of(2));
  }

  /** Writes tokenizer.json, config.json (from {@code config} with the tokenizer's vocab) and random weights. */
  public static Path write(Path dir, boolean qwen, long seed) {
    try {
      Files.createDirectories(dir);
      int vocab = DemoTokenizerWriter.write(dir.resolve("tokenizer.json"), TEXTS);
      ModelConfig config = qwen ? qwen2(vocab) : llama(vocab);
      Files.writeString(dir.resolve("config.json"), config.toJson());
      try (NDManager m = NDManager.newBaseManager(); ModelWeights w = ModelWeights.random(config, m, seed)) {
        // Random norms too, so the reference test checks that they are applied.
        w.save(dir.resolve("model.safetensors"));
      }
      return dir;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  public static LanguageModel load(Path dir, boolean qwen, long seed) {
    return LanguageModel.load(write(dir, qwen, seed));
  }

  /** Gives every B matrix seeded random values so the adapter is not a no-op. */
  public static void randomizeB(io.marginal.model.lora.LoraAdapter adapter) {
    java.util.Random random = new java.util.Random(adapter.id().hashCode());
    for (io.marginal.model.lora.LoraTarget t : adapter.targets()) {
      ai.djl.ndarray.NDArray b = adapter.loraB(t);
      float[] values = new float[(int) b.getShape().size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) (random.nextGaussian() * 0.2);
      }
      b.set(values);
    }
    adapter.contentChanged();
  }
}
