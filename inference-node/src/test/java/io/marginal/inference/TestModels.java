package io.marginal.inference;

import io.marginal.model.config.ModelConfig;
import io.marginal.model.demo.DemoCorpus;
import io.marginal.model.demo.DemoTokenizerWriter;
import io.marginal.model.weights.ModelWeights;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A tiny random-weight checkpoint of the demo architecture (Llama, ChatML tokenizer from the demo
 * corpus), written with the model module's own code: real loading, real forward passes, a few
 * milliseconds per token — what the node tests need, without training the demo model.
 */
public final class TestModels {

  private static Path checkpoint;

  private TestModels() {
  }

  public static synchronized Path tinyCheckpoint() {
    if (checkpoint != null) {
      return checkpoint;
    }
    try {
      Path dir = Files.createTempDirectory("marginal-tiny-model-");
      List<String> texts = new ArrayList<>();
      DemoCorpus.dialogues().forEach(d -> {
        texts.add(d.user());
        texts.add(d.assistant());
      });
      int vocab = DemoTokenizerWriter.write(dir.resolve("tokenizer.json"), texts);
      int padded = (vocab + 7) / 8 * 8;
      ModelConfig config = new ModelConfig("LlamaForCausalLM", "llama", 64, 128, 2, 4, 2, 16, padded, 1e-5, 10000.0, null, 512,
          true, false, -1, List.of(2));
      Files.writeString(dir.resolve("config.json"), config.toJson());
      try (NDManager manager = NDManager.newBaseManager(); ModelWeights weights = ModelWeights.random(config, manager, 7)) {
        weights.save(dir.resolve("model.safetensors"));
      }
      checkpoint = dir;
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
