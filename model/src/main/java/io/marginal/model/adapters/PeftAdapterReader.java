package io.marginal.model.adapters;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import io.marginal.model.CheckpointException;
import io.marginal.model.config.ModelConfig;
import io.marginal.model.lora.AdapterMetadata;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.lora.LoraConfig;
import io.marginal.model.lora.LoraTarget;
import io.marginal.model.weights.Projection;
import io.marginal.model.weights.SafetensorsFile;
import io.marginal.model.weights.Sha256;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a PEFT LoRA directory (ours or one saved by Python PEFT) for a given base model.
 *
 * <p>Checks, each failing with an {@link AdapterFormatException} that names the adapter and the
 * problem: the files exist; the config is plain LoRA (no DoRA, bias, modules_to_save,
 * fan_in_fan_out or rank/alpha patterns); with a manifest, the safetensors sha256 matches it; every
 * tensor name is a LoRA A/B of a known projection of an existing layer; A is {@code [r, in]} and
 * B {@code [out, r]} for the base model's dimensions.
 */
public final class PeftAdapterReader {
  public static final String CONFIG_FILE = "adapter_config.json";
  public static final String WEIGHTS_FILE = "adapter_model.safetensors";
  private static final Pattern NAME = Pattern.compile(
      "^(?:base_model\\.model\\.)?model\\.layers\\.(\\d+)\\.(?:self_attn|mlp)\\.(\\w+_proj)\\.lora_([AB])(?:\\.[\\w-]+)?\\.weight$");

  /** An adapter and, when present, its manifest. */
  public record ReadAdapter(LoraAdapter adapter, AdapterManifest manifest, String sha256) {}

  private PeftAdapterReader() {}

  /** Reads {@code dir} into a new adapter owned by a sub-manager of {@code parent}. */
  public static LoraAdapter read(Path dir, ModelConfig base, NDManager parent) {
    return readWithManifest(dir, base, parent).adapter();
  }

  public static ReadAdapter readWithManifest(Path dir, ModelConfig base, NDManager parent) {
    return readWithManifest(dir, base, parent, null);
  }

  /**
   * As {@link #readWithManifest(Path, ModelConfig, NDManager)}, first checking that the bytes read
   * hash to {@code expectedSha256} (when not null): the one hash of a verified load, taken of the
   * very bytes the tensors are parsed from.
   *
   * @throws AdapterFormatException {@code "sha256 mismatch (expected …, got …)"} when they do not
   */
  public static ReadAdapter readWithManifest(Path dir, ModelConfig base, NDManager parent, String expectedSha256) {
    String label = "adapter " + dir.getFileName();
    Path configFile = dir.resolve(CONFIG_FILE);
    Path weightsFile = dir.resolve(WEIGHTS_FILE);
    if (!Files.isRegularFile(configFile)) {
      throw new AdapterFormatException(label + ": " + CONFIG_FILE + " not found in " + dir);
    }
    if (!Files.isRegularFile(weightsFile)) {
      throw new AdapterFormatException(label + ": " + WEIGHTS_FILE + " not found in " + dir
          + (Files.exists(dir.resolve("adapter_model.bin")) ? " (adapter_model.bin is not supported; save with safe_serialization=True)" : ""));
    }
    try {
      byte[] bytes = Files.readAllBytes(weightsFile);
      String sha = Sha256.of(bytes);
      if (expectedSha256 != null && !expectedSha256.equals(sha)) {
        throw new AdapterFormatException("sha256 mismatch (expected " + expectedSha256 + ", got " + sha + ")");
      }
      AdapterManifest manifest = AdapterManifest.find(dir).orElse(null);
      if (manifest != null) {
        label = "adapter " + manifest.id() + " v" + manifest.version();
        if (!sha.equals(manifest.sha256())) {
          throw new AdapterFormatException(label + ": sha256 mismatch for " + WEIGHTS_FILE + " (expected "
              + manifest.sha256() + " from " + AdapterManifest.FILE_NAME + ", got " + sha + "); the file is corrupt or was replaced");
        }
      }
      JsonNode cfg = PeftAdapterWriter.JSON.readTree(configFile.toFile());
      LoraConfig config = loraConfig(label, cfg);
      SafetensorsFile file;
      try {
        file = SafetensorsFile.open(weightsFile);
      } catch (CheckpointException e) {
        throw new AdapterFormatException(label + ": " + e.getMessage(), e);
      }

      Map<LoraTarget, NDArray> a = new TreeMap<>();
      Map<LoraTarget, NDArray> b = new TreeMap<>();
      Set<Projection> found = EnumSet.noneOf(Projection.class);
      try (NDManager tmp = parent.newSubManager()) {
        for (SafetensorsFile.TensorInfo t : file.tensors().values()) {
          Matcher m = NAME.matcher(t.name());
          if (!m.matches()) {
            throw new AdapterFormatException(label + ": unexpected tensor '" + t.name()
                + "'; only LoRA A/B of q/k/v/o/gate/up/down_proj are supported");
          }
          int layer = Integer.parseInt(m.group(1));
          if (layer >= base.numHiddenLayers()) {
            throw new AdapterFormatException(label + ": tensor '" + t.name() + "' is for layer " + layer
                + " but the base model has " + base.numHiddenLayers() + " layers; was it trained for another model?");
          }
          Projection p;
          try {
            p = Projection.fromName(m.group(2));
          } catch (IllegalArgumentException e) {
            throw new AdapterFormatException(label + ": tensor '" + t.name() + "': " + e.getMessage());
          }
          boolean isA = m.group(3).equals("A");
          long[] expected = isA ? new long[] {config.rank(), p.inFeatures(base)} : new long[] {p.outFeatures(base), config.rank()};
          if (!Arrays.equals(t.shape(), expected)) {
            throw new AdapterFormatException(label + ": tensor '" + t.name() + "' has shape " + Arrays.toString(t.shape())
                + " but r=" + config.rank() + " and the base model (" + base.describe() + ") need " + Arrays.toString(expected)
                + "; was it trained for another model?");
          }
          LoraTarget target = new LoraTarget(layer, p);
          NDArray tensor = file.read(tmp, t.name());
          requireFinite(label, t.name(), tensor);
          (isA ? a : b).put(target, tensor);
          found.add(p);
        }
        for (LoraTarget t : new TreeSet<>(a.keySet())) {
          if (!b.containsKey(t)) {
            throw new AdapterFormatException(label + ": " + t.peftModule() + " has lora_A but no lora_B");
          }
        }
        for (LoraTarget t : b.keySet()) {
          if (!a.containsKey(t)) {
            throw new AdapterFormatException(label + ": " + t.peftModule() + " has lora_B but no lora_A");
          }
        }
        if (a.isEmpty()) {
          throw new AdapterFormatException(label + ": " + WEIGHTS_FILE + " holds no LoRA tensors");
        }
        LoraConfig actual = new LoraConfig(config.rank(), config.alpha(), config.dropout(), found, config.layers(), config.rsLora());
        String id = manifest != null ? manifest.id() : dir.getFileName().toString();
        long version = manifest != null ? manifest.version() : 0;
        LoraAdapter adapter = LoraAdapter.fromTensors(id, version, actual, a, b, parent);
        try {
          if (manifest != null) {
            adapter.setMetadata(new AdapterMetadata(manifest.baseModel(), manifest.lineage(), manifest.metrics()));
            if (manifest.masks() != null) {
              for (var e : manifest.masks().entrySet()) {
                adapter.setMask(LoraTarget.parseKey(e.getKey()), e.getValue().toBooleans());
              }
            }
          } else {
            adapter.setMetadata(new AdapterMetadata(cfg.path("base_model_name_or_path").asText(""), List.of(), Map.of()));
          }
        } catch (IllegalArgumentException e) {
          adapter.close();
          throw new AdapterFormatException(label + ": bad mask in " + AdapterManifest.FILE_NAME + ": " + e.getMessage(), e);
        }
        adapter.useFileSha256(sha);
        return new ReadAdapter(adapter, manifest, sha);
      }
    } catch (IOException e) {
      throw new AdapterFormatException(label + ": cannot read " + dir + ": " + e.getMessage(), e);
    }
  }

  private static LoraConfig loraConfig(String label, JsonNode cfg) {
    if (!cfg.path("peft_type").asText("LORA").equals("LORA")) {
      throw new AdapterFormatException(label + ": peft_type " + cfg.path("peft_type").asText() + " is not supported (only LORA)");
    }
    if (cfg.path("use_dora").asBoolean(false)) {
      throw new AdapterFormatException(label + ": DoRA adapters (use_dora=true) are not supported");
    }
    if (!cfg.path("bias").asText("none").equals("none")) {
      throw new AdapterFormatException(label + ": bias=" + cfg.path("bias").asText() + " is not supported (only none)");
    }
    if (cfg.path("fan_in_fan_out").asBoolean(false)) {
      throw new AdapterFormatException(label + ": fan_in_fan_out=true is not supported");
    }
    if (cfg.hasNonNull("modules_to_save") && cfg.get("modules_to_save").size() > 0) {
      throw new AdapterFormatException(label + ": modules_to_save " + cfg.get("modules_to_save") + " is not supported");
    }
    if (cfg.path("rank_pattern").size() > 0 || cfg.path("alpha_pattern").size() > 0) {
      throw new AdapterFormatException(label + ": rank_pattern/alpha_pattern are not supported");
    }
    if (!cfg.hasNonNull("r")) {
      throw new AdapterFormatException(label + ": " + CONFIG_FILE + " has no 'r'");
    }
    int r = cfg.get("r").asInt();
    List<Integer> layers = new ArrayList<>();
    JsonNode ltt = cfg.path("layers_to_transform");
    if (ltt.isArray()) {
      ltt.forEach(x -> layers.add(x.asInt()));
    } else if (ltt.isNumber()) {
      layers.add(ltt.asInt());
    }
    return new LoraConfig(r, cfg.path("lora_alpha").asDouble(8), cfg.path("lora_dropout").asDouble(0),
        EnumSet.allOf(Projection.class), layers, cfg.path("use_rslora").asBoolean(false));
  }

  /** An adapter with a NaN or infinite weight would turn every answer it touches into garbage: refuse it by tensor. */
  private static void requireFinite(String label, String name, NDArray tensor) {
    try (NDArray bad = tensor.isNaN().logicalOr(tensor.isInfinite()); NDArray count = bad.sum()) {
      long n = count.toType(ai.djl.ndarray.types.DataType.INT64, false).getLong();
      if (n > 0) {
        throw new AdapterFormatException(label + ": tensor '" + name + "' holds " + n + " NaN or infinite values of "
            + tensor.size() + "; the adapter was saved from a diverged training run");
      }
    }
  }
}
