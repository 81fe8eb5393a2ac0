package io.marginal.model.adapters;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.lora.LoraConfig;
import io.marginal.model.lora.LoraTarget;
import io.marginal.model.weights.Projection;
import io.marginal.model.weights.SafetensorsWriter;
import io.marginal.model.weights.Sha256;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes an adapter as PEFT does ({@code adapter_config.json} + {@code adapter_model.safetensors},
 * tensors named {@code base_model.model.model.layers.N.<block>.<proj>.lora_A.weight}), so Python
 * PEFT can load it, plus our {@link AdapterManifest}. Neuron masks are baked into B, so PEFT
 * computes the same (masked) update. Each file is written atomically; the manifest last.
 */
public final class PeftAdapterWriter {
  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
      .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

  private PeftAdapterWriter() {}

  public static AdapterManifest write(LoraAdapter adapter, Path dir) {
    try {
      Files.createDirectories(dir);
      byte[] tensors = adapter.safetensorsBytes();
      String sha = Sha256.of(tensors);
      SafetensorsWriter.writeBytes(dir.resolve(PeftAdapterReader.WEIGHTS_FILE), tensors);
      writeJson(dir.resolve(PeftAdapterReader.CONFIG_FILE), peftConfig(adapter));

      Map<String, AdapterManifest.NeuronMask> masks = new LinkedHashMap<>();
      for (LoraTarget t : adapter.maskedTargets()) {
        adapter.mask(t).ifPresent(m -> masks.put(t.key(), AdapterManifest.NeuronMask.of(m)));
      }
      AdapterManifest manifest = new AdapterManifest(AdapterManifest.FORMAT, adapter.id(), adapter.version(), sha,
          adapter.metadata().baseModel(), Instant.now().toString(), adapter.config().rank(), adapter.config().alpha(),
          adapter.targets().stream().map(LoraTarget::key).toList(), masks, adapter.metadata().lineage(),
          adapter.metadata().metrics());
      manifest.write(dir);
      adapter.useFileSha256(sha);
      return manifest;
    } catch (IOException e) {
      throw new UncheckedIOException("adapter " + adapter.id() + ": cannot write to " + dir + ": " + e.getMessage(), e);
    }
  }

  static ObjectNode peftConfig(LoraAdapter adapter) {
    LoraConfig c = adapter.config();
    ObjectNode n = JSON.createObjectNode();
    n.put("peft_type", "LORA");
    n.put("task_type", "CAUSAL_LM");
    if (adapter.metadata().baseModel().isBlank()) {
      n.putNull("base_model_name_or_path"); // PEFT's own default for "unknown", not an empty name
    } else {
      n.put("base_model_name_or_path", adapter.metadata().baseModel());
    }
    n.put("r", c.rank());
    n.put("lora_alpha", c.alpha());
    n.put("lora_dropout", c.dropout());
    var targets = n.putArray("target_modules");
    for (Projection p : Projection.values()) {
      if (c.targets().contains(p)) {
        targets.add(p.moduleName());
      }
    }
    if (c.layers().isEmpty()) {
      n.putNull("layers_to_transform");
    } else {
      c.layers().forEach(n.putArray("layers_to_transform")::add);
    }
    n.put("bias", "none");
    n.put("fan_in_fan_out", false);
    n.put("inference_mode", true);
    n.put("init_lora_weights", true);
    n.put("use_rslora", c.rsLora());
    n.put("use_dora", false);
    n.putNull("modules_to_save");
    n.putObject("rank_pattern");
    n.putObject("alpha_pattern");
    n.putNull("revision");
    return n;
  }

  static void writeJson(Path file, Object value) throws IOException {
    SafetensorsWriter.writeBytes(file, (JSON.writeValueAsString(value) + "\n").getBytes(StandardCharsets.UTF_8));
  }
}
