package io.marginal.model.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.marginal.model.CheckpointException;
import io.marginal.model.LanguageModel;
import io.marginal.model.config.ModelConfig;
import io.marginal.model.testing.TinyModels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointLoadingTest {
  @TempDir Path tmp;

  @Test
  void bf16AndF16AreWidenedToF32() throws Exception {
    float[] values = {1.0f, -2.5f, 0.15625f, 1024f, -0.125f, 0f};
    short[] halfBits = {0x3C00, (short) 0xC100, 0x3100, 0x6400, (short) 0xB000, 0}; // the same values in IEEE half
    ByteBuffer bf16 = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer f16 = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    float[] bf16Expected = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      int bits = Float.floatToIntBits(values[i]);
      bf16.putShort((short) (bits >>> 16));               // truncation: what a BF16 checkpoint holds
      bf16Expected[i] = Float.intBitsToFloat(bits & 0xFFFF0000);
      f16.putShort(halfBits[i]);
    }
    Map<String, SafetensorsWriter.Entry> t = new TreeMap<>();
    t.put("a.bf16", new SafetensorsWriter.Entry("BF16", new long[] {2, 3}, bf16.array()));
    t.put("b.f16", new SafetensorsWriter.Entry("F16", new long[] {6}, f16.array()));
    Path file = tmp.resolve("x.safetensors");
    Files.write(file, SafetensorsWriter.encode(t, Map.of()));
    SafetensorsFile sf = SafetensorsFile.open(file);
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray a = sf.read(m, "a.bf16");
      assertEquals(ai.djl.ndarray.types.DataType.FLOAT32, a.getDataType());
      assertEquals(new ai.djl.ndarray.types.Shape(2, 3), a.getShape());
      assertArrayEquals(bf16Expected, a.toFloatArray(), 0f);
      float[] b = sf.read(m, "b.f16").toFloatArray();
      for (int i = 0; i < values.length; i++) {
        assertEquals(values[i], b[i], 0f);
      }
    }
  }

  @Test
  void largeTensorsAreReadInChunks() throws Exception {
    int rows = 300;
    int cols = 1 << 18; // 300 MiB as F32 > chunk size; written as BF16 (150 MiB)
    ByteBuffer data = ByteBuffer.allocate(rows * cols * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (int r = 0; r < rows; r++) {
      short v = (short) (Float.floatToIntBits(r % 128) >>> 16); // exact in bf16
      for (int c = 0; c < cols; c++) {
        data.putShort(v);
      }
    }
    Path file = tmp.resolve("big.safetensors");
    Files.write(file, SafetensorsWriter.encode(Map.of("w", new SafetensorsWriter.Entry("BF16", new long[] {rows, cols}, data.array())), Map.of()));
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray w = SafetensorsFile.open(file).read(m, "w");
      assertEquals(new ai.djl.ndarray.types.Shape(rows, cols), w.getShape());
      float[] firstColumn = w.get(":, 0").toFloatArray();
      for (int r = 0; r < rows; r++) {
        assertEquals(r % 128, firstColumn[r], 0f);
      }
    }
  }

  @Test
  void shardedCheckpointLoadsThroughIndex() throws Exception {
    Path single = TinyModels.write(tmp.resolve("single"), true, 5);
    Path sharded = withConfigAndTokenizerOf(single, tmp.resolve("sharded"));
    SafetensorsFile whole = SafetensorsFile.open(single.resolve("model.safetensors"));
    Map<String, SafetensorsWriter.Entry> one = new TreeMap<>();
    Map<String, SafetensorsWriter.Entry> two = new TreeMap<>();
    StringBuilder index = new StringBuilder("{\"metadata\": {}, \"weight_map\": {");
    int i = 0;
    for (String name : whole.tensors().keySet()) {
      var info = whole.tensors().get(name);
      var entry = SafetensorsWriter.Entry.f32(whole.readFloats(name), info.shape());
      String shard = (i++ % 2 == 0) ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
      (shard.contains("00001-of") ? one : two).put(name, entry);
      index.append(i > 1 ? "," : "").append('"').append(name).append("\":\"").append(shard).append('"');
    }
    Files.writeString(sharded.resolve("model.safetensors.index.json"), index.append("}}").toString());
    Files.write(sharded.resolve("model-00001-of-00002.safetensors"), SafetensorsWriter.encode(one, Map.of()));
    Files.write(sharded.resolve("model-00002-of-00002.safetensors"), SafetensorsWriter.encode(two, Map.of()));
    try (LanguageModel a = LanguageModel.load(single); LanguageModel b = LanguageModel.load(sharded)) {
      var c = a.continuation("hello there", "how are you today");
      assertEquals(a.logProb("hello there", "how are you today", null), b.logProbs(java.util.List.of(c), io.marginal.model.lora.ActiveAdapters.NONE)[0], 1e-6);
    }
  }

  /** A new checkpoint directory {@code dir} holding {@code source}'s config.json and tokenizer.json (weights to be written). */
  private static Path withConfigAndTokenizerOf(Path source, Path dir) throws Exception {
    Files.createDirectories(dir);
    Files.copy(source.resolve("config.json"), dir.resolve("config.json"));
    Files.copy(source.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
    return dir;
  }

  @Test
  void aCheckpointWithNaNWeightsIsRefused() throws Exception {
    Path good = TinyModels.write(tmp.resolve("nan-src"), false, 3);
    Path bad = withConfigAndTokenizerOf(good, tmp.resolve("nan"));
    SafetensorsFile whole = SafetensorsFile.open(good.resolve("model.safetensors"));
    Map<String, SafetensorsWriter.Entry> tensors = new TreeMap<>();
    for (String name : whole.tensors().keySet()) {
      float[] values = whole.readFloats(name);
      if (name.equals("model.layers.1.mlp.up_proj.weight")) {
        values[7] = Float.NaN;
      }
      tensors.put(name, SafetensorsWriter.Entry.f32(values, whole.tensors().get(name).shape()));
    }
    Files.write(bad.resolve("model.safetensors"), SafetensorsWriter.encode(tensors, Map.of()));
    String msg = assertThrows(CheckpointException.class, () -> LanguageModel.load(bad)).getMessage();
    assertTrue(msg.contains("'model.layers.1.mlp.up_proj.weight' holds NaN or infinite values"), msg);
    LanguageModel.load(good).close();
  }

  @Test
  void errorsNameTheProblem() throws Exception {
    Path empty = tmp.resolve("empty");
    Files.createDirectories(empty);
    assertTrue(assertThrows(CheckpointException.class, () -> LanguageModel.load(empty)).getMessage().contains("config.json not found"));

    Path dir = TinyModels.write(tmp.resolve("m"), false, 1);
    String config = Files.readString(dir.resolve("config.json"));
    Files.writeString(dir.resolve("config.json"), config.replace("LlamaForCausalLM", "GPT2LMHeadModel"));
    String msg = assertThrows(CheckpointException.class, () -> LanguageModel.load(dir)).getMessage();
    assertTrue(msg.contains("unsupported architecture 'GPT2LMHeadModel'"), msg);

    Files.writeString(dir.resolve("config.json"), config.replace("\"intermediate_size\" : 64", "\"intermediate_size\" : 80"));
    msg = assertThrows(CheckpointException.class, () -> LanguageModel.load(dir)).getMessage();
    assertTrue(msg.contains("gate_proj.weight") && msg.contains("has shape [64, 32]") && msg.contains("[80, 32]"), msg);

    Files.writeString(dir.resolve("config.json"), config);
    Files.delete(dir.resolve("tokenizer.json"));
    assertTrue(assertThrows(CheckpointException.class, () -> LanguageModel.load(dir)).getMessage().contains("tokenizer.json not found"));
  }

  @Test
  void configParsesHuggingFaceFields() {
    ModelConfig c = ModelConfig.parse("""
        {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 896, "intermediate_size": 4864,
         "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2, "vocab_size": 151936,
         "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "max_position_embeddings": 32768, "tie_word_embeddings": true,
         "eos_token_id": 151645, "torch_dtype": "bfloat16"}""");
    assertEquals(64, c.headDim());
    assertTrue(c.attentionBias());
    assertTrue(c.tieWordEmbeddings());
    assertEquals(1_000_000.0, c.ropeTheta());
    assertEquals(128, c.keyValueDim());
    assertEquals(c, ModelConfig.parse(c.toJson()));
    assertEquals("silu", c.hiddenAct());
  }

  @Test
  void slidingWindowCapsTheContextWhereFullAttentionStopsBeingExact() {
    String mistral = """
        {"architectures": ["MistralForCausalLM"], "model_type": "mistral", "hidden_size": 64, "intermediate_size": 128,
         "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 100,
         "max_position_embeddings": 32768, "sliding_window": %s}""";
    assertEquals(4096, ModelConfig.parse(mistral.formatted("4096")).maxPositionEmbeddings());
    assertEquals(32768, ModelConfig.parse(mistral.formatted("null")).maxPositionEmbeddings());
    String qwen = """
        {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 64, "intermediate_size": 128,
         "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 100,
         "max_position_embeddings": 32768, "sliding_window": 4096, "use_sliding_window": %s}""";
    assertEquals(32768, ModelConfig.parse(qwen.formatted("false")).maxPositionEmbeddings());
    assertEquals(4096, ModelConfig.parse(qwen.formatted("true")).maxPositionEmbeddings());
  }
}
