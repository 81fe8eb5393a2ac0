package io.marginal.model.adapters;

import io.marginal.model.weights.Sha256;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marginal.model.LanguageModel;
import io.marginal.model.lora.AdapterMetadata;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.lora.LoraConfig;
import io.marginal.model.lora.LoraTarget;
import io.marginal.model.testing.TinyModels;
import io.marginal.model.weights.Projection;
import io.marginal.model.weights.SafetensorsFile;
import io.marginal.model.weights.SafetensorsWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeftRoundTripTest {
  @TempDir Path tmp;
  LanguageModel model;
  LoraAdapter adapter;

  @BeforeEach
  void setUp() {
    model = TinyModels.load(tmp.resolve("model"), false, 3);
    adapter = LoraAdapter.create("forget-inception", 7, model.config(), LoraConfig.of(4, 8, 0.05, Projection.Q, Projection.V,
        Projection.DOWN), model.manager(), 9);
    io.marginal.model.testing.TinyModels.randomizeB(adapter);
    boolean[] mask = new boolean[Projection.DOWN.outFeatures(model.config())];
    mask[1] = mask[4] = mask[30] = true;
    adapter.setMask(new LoraTarget(1, Projection.DOWN), mask);
    adapter.setMetadata(new AdapterMetadata("tiny", List.of("event-1", "event-2"), Map.of("forget_accuracy", 0.02)));
  }

  @AfterEach
  void tearDown() {
    adapter.close();
    model.close();
  }

  @Test
  void writesPeftLayoutAndReadsBackIdentically() throws Exception {
    Path dir = tmp.resolve("adapter");
    AdapterManifest manifest = PeftAdapterWriter.write(adapter, dir);

    JsonNode cfg = new ObjectMapper().readTree(dir.resolve("adapter_config.json").toFile());
    assertEquals("LORA", cfg.get("peft_type").asText());
    assertEquals(4, cfg.get("r").asInt());
    assertEquals(8.0, cfg.get("lora_alpha").asDouble());
    assertEquals(Set.of("q_proj", "v_proj", "down_proj"), Set.of(new ObjectMapper().treeToValue(cfg.get("target_modules"), String[].class)));
    SafetensorsFile file = SafetensorsFile.open(dir.resolve("adapter_model.safetensors"));
    assertTrue(file.tensors().containsKey("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"));
    assertTrue(file.tensors().containsKey("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"));
    assertEquals(2 * 2 * 3, file.tensors().size());
    assertEquals(Sha256.of(Files.readAllBytes(dir.resolve("adapter_model.safetensors"))), manifest.sha256());

    try (LoraAdapter read = PeftAdapterReader.read(dir, model.config(), model.manager())) {
      assertEquals("forget-inception", read.id());
      assertEquals(7, read.version());
      assertEquals(adapter.sha256(), read.sha256());
      assertEquals(adapter.targets(), read.targets());
      assertEquals(List.of("event-1", "event-2"), read.metadata().lineage());
      assertEquals(0.02, read.metadata().metrics().get("forget_accuracy"));
      assertArrayEquals(adapter.mask(new LoraTarget(1, Projection.DOWN)).orElseThrow(),
          read.mask(new LoraTarget(1, Projection.DOWN)).orElseThrow());
      try (NDManager m = model.manager().newSubManager()) {
        var expected = adapter.peftTensors(m);
        var actual = read.peftTensors(m);
        assertEquals(expected.keySet(), actual.keySet());
        for (String name : expected.keySet()) {
          assertArrayEquals(expected.get(name).toFloatArray(), actual.get(name).toFloatArray(), 0f, name);
        }
      }
      // Same behaviour: identical scores with either copy.
      var c = model.continuation("hello there", "how are you");
      assertEquals(model.logProbs(List.of(c), ActiveAdapters.of(adapter))[0], model.logProbs(List.of(c), ActiveAdapters.of(read))[0], 1e-6);
    }
  }

  @Test
  void anAdapterWithoutABaseModelWritesNullNotAnEmptyName() throws Exception {
    assertEquals("tiny", new ObjectMapper().readTree(PeftAdapterWriter.peftConfig(adapter).toString())
        .get("base_model_name_or_path").asText());
    adapter.setMetadata(AdapterMetadata.EMPTY);
    Path dir = tmp.resolve("no-base");
    PeftAdapterWriter.write(adapter, dir);
    JsonNode cfg = new ObjectMapper().readTree(dir.resolve("adapter_config.json").toFile());
    assertTrue(cfg.has("base_model_name_or_path") && cfg.get("base_model_name_or_path").isNull(), cfg.toString());
    try (LoraAdapter read = PeftAdapterReader.read(dir, model.config(), model.manager())) {
      assertEquals("", read.metadata().baseModel());
    }
  }

  @Test
  void corruptWeightsAreRefusedWithChecksumError() throws Exception {
    Path dir = tmp.resolve("adapter");
    PeftAdapterWriter.write(adapter, dir);
    Path weights = dir.resolve("adapter_model.safetensors");
    byte[] bytes = Files.readAllBytes(weights);
    bytes[bytes.length - 3] ^= 0x5A;
    Files.write(weights, bytes);
    AdapterFormatException e = assertThrows(AdapterFormatException.class, () -> PeftAdapterReader.read(dir, model.config(), model.manager()));
    assertTrue(e.getMessage().contains("sha256 mismatch"), e.getMessage());
    assertTrue(e.getMessage().contains("forget-inception"), e.getMessage());
  }

  @Test
  void adapterForAnotherModelIsRefusedWithShapeError() {
    Path dir = tmp.resolve("adapter");
    PeftAdapterWriter.write(adapter, dir);
    try (LanguageModel other = TinyModels.load(tmp.resolve("qwen"), true, 3)) {
      AdapterFormatException e = assertThrows(AdapterFormatException.class,
          () -> PeftAdapterReader.read(dir, other.config(), other.manager()));
      assertTrue(e.getMessage().contains("has shape"), e.getMessage());
    }
  }

  @Test
  void anAdapterWithNaNWeightsIsRefusedByTensorName() throws Exception {
    Path dir = tmp.resolve("diverged");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("adapter_config.json"), """
        {"peft_type": "LORA", "r": 4, "lora_alpha": 8, "lora_dropout": 0.0, "target_modules": ["q_proj"]}
        """);
    int h = model.config().hiddenSize();
    int q = model.config().queryDim();
    float[] a = new float[4 * h];
    float[] b = new float[q * 4];
    b[5] = Float.NaN;
    b[6] = Float.POSITIVE_INFINITY;
    Map<String, SafetensorsWriter.Entry> t = new TreeMap<>();
    t.put("base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight", SafetensorsWriter.Entry.f32(a, 4, h));
    t.put("base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight", SafetensorsWriter.Entry.f32(b, q, 4));
    Files.write(dir.resolve("adapter_model.safetensors"), SafetensorsWriter.encode(t, Map.of("format", "pt")));

    AdapterFormatException e = assertThrows(AdapterFormatException.class, () -> PeftAdapterReader.read(dir, model.config(), model.manager()));

    assertTrue(e.getMessage().contains("'base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight' holds 2 NaN or infinite"),
        e.getMessage());
  }

  @Test
  void readsPlainPeftDirectoryWithoutManifest() throws Exception {
    // What Python PEFT writes: config + safetensors with PEFT names, no manifest, no masks.
    Path dir = tmp.resolve("python-peft");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("adapter_config.json"), """
        {"peft_type": "LORA", "r": 4, "lora_alpha": 8, "lora_dropout": 0.0, "target_modules": ["q_proj"],
         "bias": "none", "task_type": "CAUSAL_LM", "base_model_name_or_path": "tiny", "fan_in_fan_out": false,
         "use_rslora": false, "modules_to_save": null, "rank_pattern": {}, "alpha_pattern": {}}
        """);
    int h = model.config().hiddenSize();
    int q = model.config().queryDim();
    Map<String, SafetensorsWriter.Entry> t = new TreeMap<>();
    float[] a = new float[4 * h];
    float[] b = new float[q * 4];
    for (int i = 0; i < a.length; i++) {
      a[i] = (i % 7) * 0.01f;
    }
    for (int i = 0; i < b.length; i++) {
      b[i] = (i % 5) * 0.02f;
    }
    t.put("base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight", SafetensorsWriter.Entry.f32(a, 4, h));
    t.put("base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight", SafetensorsWriter.Entry.f32(b, q, 4));
    byte[] bytes = SafetensorsWriter.encode(t, Map.of("format", "pt"));
    Files.write(dir.resolve("adapter_model.safetensors"), bytes);
    try (LoraAdapter read = PeftAdapterReader.read(dir, model.config(), model.manager())) {
      assertEquals("python-peft", read.id());
      assertEquals(List.of(new LoraTarget(1, Projection.Q)), read.targets());
      assertEquals(Sha256.of(bytes), read.sha256());
      assertArrayEquals(a, read.loraA(new LoraTarget(1, Projection.Q)).toFloatArray());
      assertFalse(read.mask(new LoraTarget(1, Projection.Q)).isPresent());
    }
  }

  @Test
  void missingFilesAndUnsupportedConfigsAreNamed() throws Exception {
    Path dir = tmp.resolve("empty");
    Files.createDirectories(dir);
    assertTrue(assertThrows(AdapterFormatException.class, () -> PeftAdapterReader.read(dir, model.config(), model.manager()))
        .getMessage().contains("adapter_config.json not found"));
    Files.writeString(dir.resolve("adapter_config.json"), "{\"peft_type\":\"LORA\",\"r\":4,\"use_dora\":true}");
    assertTrue(assertThrows(AdapterFormatException.class, () -> PeftAdapterReader.read(dir, model.config(), model.manager()))
        .getMessage().contains("adapter_model.safetensors not found"));
    Files.write(dir.resolve("adapter_model.safetensors"), SafetensorsWriter.encode(Map.of(), Map.of()));
    assertTrue(assertThrows(AdapterFormatException.class, () -> PeftAdapterReader.read(dir, model.config(), model.manager()))
        .getMessage().contains("DoRA"));
  }
}
