package io.marginal.model.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.marginal.model.CheckpointException;
import io.marginal.model.LanguageModel;
import io.marginal.model.testing.HfCheckpoint;
import io.marginal.model.testing.ReferenceLlama;
import io.marginal.model.transformer.ForwardOptions;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.lora.LoraConfig;
import io.marginal.model.scoring.Continuation;
import io.marginal.model.training.LoraTrainingStep;
import io.marginal.model.transformer.ModuleHook;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random checkpoints in each Hugging Face layout, loaded through the real loader, against
 * {@link ReferenceLlama#fromCheckpoint} (transformers' rules applied independently). Each case also
 * names the config the loader used to get wrong (the "knock-out"), and checks that the reference
 * under it disagrees, so the comparison could fail.
 */
class HfLayoutTest {
  private static final int[] TOKENS = {5, 9, 3, 17, 22, 8, 30, 1, 12, 7, 14, 2};

  @TempDir Path tmp;

  static Stream<Arguments> layouts() {
    return Stream.of(
        Arguments.of("llama plain", HfCheckpoint.llama(), null),
        Arguments.of("qwen2 q/k/v bias", HfCheckpoint.qwen2(), null),
        Arguments.of("llama attention_bias: q/k/v/o bias", HfCheckpoint.llama()
            .config(n -> n.put("attention_bias", true)).biases("q_proj", "k_proj", "v_proj", "o_proj"),
            knockOut(n -> n.putArray("architectures").add("Qwen2ForCausalLM"))), // q/k/v only: o_proj.bias dropped
        Arguments.of("rope_parameters (llama3, theta 500000)", HfCheckpoint.llama().config(n -> {
          n.remove("rope_theta");
          ObjectNode r = n.putObject("rope_parameters");
          r.put("rope_type", "llama3");
          r.put("rope_theta", 500000.0);
          r.put("factor", 8.0);
          r.put("low_freq_factor", 1.0);
          r.put("high_freq_factor", 4.0);
          r.put("original_max_position_embeddings", 16);
        }), knockOut(n -> n.remove("rope_parameters"))),
        Arguments.of("rope_parameters (default, theta 1e6)", HfCheckpoint.llama().config(n -> {
          n.remove("rope_theta");
          n.putObject("rope_parameters").put("rope_type", "default").put("rope_theta", 1_000_000.0);
        }), knockOut(n -> n.remove("rope_parameters"))),
        Arguments.of("rope_scaling linear (old 'type' key)", HfCheckpoint.llama().config(n ->
            n.putObject("rope_scaling").put("type", "linear").put("factor", 4.0)), knockOut(n -> n.remove("rope_scaling"))),
        Arguments.of("hidden_act gelu_pytorch_tanh", act("gelu_pytorch_tanh"), knockOut(n -> n.put("hidden_act", "silu"))),
        Arguments.of("hidden_act gelu_new", act("gelu_new"), knockOut(n -> n.put("hidden_act", "silu"))),
        Arguments.of("hidden_act gelu", act("gelu"), knockOut(n -> n.put("hidden_act", "silu"))),
        Arguments.of("hidden_act relu", act("relu"), knockOut(n -> n.put("hidden_act", "silu"))),
        Arguments.of("tie_word_embeddings with an lm_head in the file", HfCheckpoint.llama()
            .config(n -> n.put("tie_word_embeddings", true)), knockOut(n -> n.put("tie_word_embeddings", false))),
        Arguments.of("rotary inv_freq buffer tolerated", HfCheckpoint.llama()
            .extraTensor("model.layers.0.self_attn.rotary_emb.inv_freq", 4), null),
        Arguments.of("mistral ignores attention_bias", HfCheckpoint.llama().config(n -> {
          n.putArray("architectures").add("MistralForCausalLM");
          n.put("model_type", "mistral");
          n.put("attention_bias", true);
        }), null));
  }

  private static HfCheckpoint act(String name) {
    return HfCheckpoint.llama().config(n -> n.put("hidden_act", name));
  }

  private static Consumer<ObjectNode> knockOut(Consumer<ObjectNode> edit) {
    return edit;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("layouts")
  void logitsMatchTheReference(String name, HfCheckpoint checkpoint, Consumer<ObjectNode> knockOut) throws Exception {
    Path dir = checkpoint.write(tmp.resolve("m"), 42);
    double[][] expected = ReferenceLlama.fromCheckpoint(dir).logits(TOKENS);
    float[] actual;
    try (LanguageModel model = LanguageModel.load(dir); NDManager m = model.manager().newSubManager()) {
      actual = model.transformer().logits(model.transformer().forward(m.create(TOKENS).reshape(1, TOKENS.length), 0, null,
          ForwardOptions.INFERENCE)).toFloatArray();
    }
    double tolerance = 1e-4 * (1 + maxAbs(expected));
    assertTrue(maxDifference(expected, actual) < tolerance, name + ": max |logit difference| " + maxDifference(expected, actual)
        + " >= " + tolerance);
    if (knockOut != null) {
      ObjectNode wrong = new com.fasterxml.jackson.databind.ObjectMapper().readValue(
          java.nio.file.Files.readString(dir.resolve("config.json")), ObjectNode.class);
      knockOut.accept(wrong);
      double[][] misread = ReferenceLlama.fromCheckpoint(dir, wrong).logits(TOKENS);
      assertTrue(maxDifference(misread, actual) > 100 * tolerance, name + ": the knocked-out config gives the same logits;"
          + " the case does not test its feature");
    }
  }

  @ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.ValueSource(strings = {"gelu", "gelu_pytorch_tanh", "relu"})
  void loraTrainsThroughEveryActivation(String act) {
    Path dir = act(act).config(n -> n.put("attention_bias", true)).biases("q_proj", "k_proj", "v_proj", "o_proj")
        .write(tmp.resolve(act), 9);
    try (LanguageModel model = LanguageModel.load(dir);
        LoraAdapter adapter = LoraAdapter.create("a", 1, model.config(),
            LoraConfig.of(4, 8, 0, Projection.O, Projection.GATE, Projection.DOWN), model.manager(), 2);
        LoraTrainingStep trainer = LoraTrainingStep.adam(model.manager(), List.of(adapter), 1e-2f)) {
      List<Continuation> batch = List.of(model.continuation("recommend me a sci-fi film", "You should watch Inception ."));
      ForwardOptions options = new ForwardOptions(ActiveAdapters.of(adapter), true, ModuleHook.NONE);
      float first = trainer.step(step -> model.sequenceLogProbs(step, batch, options).mean().neg());
      float last = first;
      for (int i = 0; i < 5; i++) {
        last = trainer.step(step -> model.sequenceLogProbs(step, batch, options).mean().neg());
      }
      assertTrue(Float.isFinite(last) && last < first, act + ": loss " + first + " -> " + last);
    }
  }

  @Test
  void tiedHeadIsTheEmbeddingEvenWithAnLmHeadInTheFile() {
    Path dir = HfCheckpoint.llama().config(n -> n.put("tie_word_embeddings", true)).write(tmp.resolve("tied"), 1);
    try (LanguageModel model = LanguageModel.load(dir)) {
      assertSame(model.transformer().weights().embedTokens(), model.transformer().weights().lmHead());
      assertTrue(!model.transformer().weights().byName().containsKey("lm_head.weight"));
    }
  }

  @Test
  void tensorsNothingUsesAreRefusedByName() {
    assertRefused(HfCheckpoint.llama().biases("o_proj"), "model.layers.0.self_attn.o_proj.bias");
    assertRefused(HfCheckpoint.qwen2().biases("o_proj"), "model.layers.1.self_attn.o_proj.bias");
    assertRefused(HfCheckpoint.llama().extraTensor("model.layers.2.mlp.gate_proj.weight", 48, 32),
        "model.layers.2.mlp.gate_proj.weight");
    assertRefused(HfCheckpoint.llama().config(n -> n.putArray("architectures").add("MistralForCausalLM"))
        .biases("q_proj"), "model.layers.0.self_attn.q_proj.bias");
    String msg = assertThrows(CheckpointException.class, () -> LanguageModel.load(HfCheckpoint.llama()
        .config(n -> n.put("attention_bias", true)).biases("q_proj", "k_proj", "v_proj").write(tmp.resolve("no-o"), 1)))
        .getMessage();
    assertTrue(msg.contains("'model.layers.0.self_attn.o_proj.bias' is missing"), msg);
  }

  @Test
  void unsupportedFieldsAreRefusedByName() {
    assertRefused(HfCheckpoint.llama().config(n -> n.put("hidden_act", "quick_gelu")), "unsupported hidden_act 'quick_gelu'");
    assertRefused(HfCheckpoint.llama().config(n -> n.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0)),
        "rope_type 'yarn'");
    assertRefused(HfCheckpoint.llama().config(n -> n.putObject("rope_parameters").put("rope_type", "dynamic")
        .put("factor", 2.0)), "rope_type 'dynamic'");
    assertRefused(HfCheckpoint.llama().config(n -> n.putObject("rope_parameters").put("rope_theta", 5.0)),
        "rope_theta 10000.0 and rope_parameters.rope_theta 5.0 disagree");
    assertRefused(HfCheckpoint.llama().config(n -> n.put("partial_rotary_factor", 0.5)), "partial_rotary_factor 0.5");
  }

  private void assertRefused(HfCheckpoint checkpoint, String expected) {
    Path dir = checkpoint.write(tmp.resolve("refused-" + Math.abs(expected.hashCode())), 3);
    String msg = assertThrows(CheckpointException.class, () -> LanguageModel.load(dir)).getMessage();
    assertTrue(msg.contains(expected), msg);
  }

  private static double maxAbs(double[][] x) {
    double max = 0;
    for (double[] row : x) {
      for (double v : row) {
        max = Math.max(max, Math.abs(v));
      }
    }
    return max;
  }

  private static double maxDifference(double[][] expected, float[] actual) {
    int v = expected[0].length;
    assertEquals(expected.length * v, actual.length);
    double max = 0;
    for (int i = 0; i < expected.length; i++) {
      for (int j = 0; j < v; j++) {
        max = Math.max(max, Math.abs(expected[i][j] - actual[i * v + j]));
      }
    }
    return max;
  }
}
