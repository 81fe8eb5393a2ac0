package io.marginal.model.adapters;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Our side-car to a PEFT adapter ({@value #FILE_NAME}): identity, the checksum of
 * {@code adapter_model.safetensors}, neuron masks, lineage and metrics. PEFT ignores it; we
 * refuse an adapter whose safetensors file does not match {@link #sha256()}.
 *
 * @param masks per target ({@code "3.down_proj"}): output width and the indices of masked-in neurons
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record AdapterManifest(
    @JsonProperty("format") String format,
    @JsonProperty("id") String id,
    @JsonProperty("version") long version,
    @JsonProperty("sha256") String sha256,
    @JsonProperty("base_model") String baseModel,
    @JsonProperty("created_at") String createdAt,
    @JsonProperty("rank") int rank,
    @JsonProperty("alpha") double alpha,
    @JsonProperty("targets") List<String> targets,
    @JsonProperty("masks") Map<String, NeuronMask> masks,
    @JsonProperty("lineage") List<String> lineage,
    @JsonProperty("metrics") Map<String, Double> metrics) {

  public static final String FILE_NAME = "adapter_manifest.json";
  public static final String FORMAT = "marginal-lora/1";

  /**
   * The manifest of the adapter directory {@code dir}: the one reader of the adapter-directory contract, for the
   * model's reader, the trainer and the inference node.
   *
   * @throws AdapterFormatException when there is none or it cannot be read, naming the file and the problem
   */
  public static AdapterManifest read(Path dir) {
    return find(dir).orElseThrow(() -> new AdapterFormatException("no " + FILE_NAME + " in " + dir
        + "; every adapter version carries one (written by PeftAdapterWriter)"));
  }

  /** The manifest of {@code dir}, or empty when the directory has none (a plain PEFT adapter from another tool). */
  public static Optional<AdapterManifest> find(Path dir) {
    Path file = dir.resolve(FILE_NAME);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      AdapterManifest manifest = PeftAdapterWriter.JSON.readValue(file.toFile(), AdapterManifest.class);
      if (manifest == null) {
        throw new AdapterFormatException(file + " is not a manifest (JSON null)");
      }
      return Optional.of(manifest);
    } catch (IOException e) {
      throw new AdapterFormatException(file + " is not a readable manifest: " + e.getMessage(), e);
    }
  }

  /** Writes this manifest into {@code dir} atomically (a reader never sees half a file). */
  public void write(Path dir) throws IOException {
    PeftAdapterWriter.writeJson(dir.resolve(FILE_NAME), this);
  }

  /** A mask in compact form: the projection's output width and the masked-in neuron indices. */
  public record NeuronMask(@JsonProperty("size") int size, @JsonProperty("neurons") int[] neurons) {
    public static NeuronMask of(boolean[] mask) {
      int n = 0;
      for (boolean b : mask) {
        n += b ? 1 : 0;
      }
      int[] idx = new int[n];
      int k = 0;
      for (int i = 0; i < mask.length; i++) {
        if (mask[i]) {
          idx[k++] = i;
        }
      }
      return new NeuronMask(mask.length, idx);
    }

    public boolean[] toBooleans() {
      boolean[] out = new boolean[size];
      for (int i : neurons) {
        if (i < 0 || i >= size) {
          throw new IllegalArgumentException("mask neuron index " + i + " outside [0, " + size + ")");
        }
        out[i] = true;
      }
      return out;
    }
  }
}
