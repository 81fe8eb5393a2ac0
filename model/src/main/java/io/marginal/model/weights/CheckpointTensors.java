package io.marginal.model.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marginal.model.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * All tensors of a checkpoint directory, across one or several safetensors shards. Shards are
 * found through {@code model.safetensors.index.json} when present, otherwise every
 * {@code *.safetensors} file in the directory is read. Remembers which tensors were consumed, so
 * the loader can refuse a checkpoint holding tensors that nothing would use.
 */
public final class CheckpointTensors {
  private final Path dir;
  private final Map<String, SafetensorsFile> byTensor;
  private final Set<String> consumed = new HashSet<>();

  private CheckpointTensors(Path dir, Map<String, SafetensorsFile> byTensor) {
    this.dir = dir;
    this.byTensor = byTensor;
  }

  public static CheckpointTensors open(Path dir) {
    Map<String, SafetensorsFile> byTensor = new HashMap<>();
    Path index = dir.resolve("model.safetensors.index.json");
    try {
      if (Files.isRegularFile(index)) {
        JsonNode map = new ObjectMapper().readTree(index.toFile()).path("weight_map");
        Map<String, SafetensorsFile> shards = new HashMap<>();
        for (var it = map.fields(); it.hasNext(); ) {
          var e = it.next();
          String shard = e.getValue().asText();
          Path shardPath = dir.resolve(shard);
          if (!Files.isRegularFile(shardPath)) {
            throw new CheckpointException("checkpoint " + dir + ": shard " + shard
                + " named in model.safetensors.index.json is missing");
          }
          byTensor.put(e.getKey(), shards.computeIfAbsent(shard, s -> SafetensorsFile.open(shardPath)));
        }
      } else {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
          files = s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
        }
        if (files.isEmpty()) {
          throw new CheckpointException("checkpoint " + dir + ": no *.safetensors file found"
              + " (PyTorch .bin checkpoints are not supported; save with safe_serialization=True)");
        }
        for (Path f : files) {
          SafetensorsFile file = SafetensorsFile.open(f);
          file.tensors().keySet().forEach(name -> byTensor.put(name, file));
        }
      }
    } catch (IOException e) {
      throw new CheckpointException("checkpoint " + dir + ": " + e.getMessage(), e);
    }
    return new CheckpointTensors(dir, byTensor);
  }

  public boolean contains(String name) {
    return byTensor.containsKey(name);
  }

  /** The directory the tensors come from. */
  public Path dir() {
    return dir;
  }

  /** Counts {@code name} as consumed without reading it (a tensor deliberately ignored). */
  public void markConsumed(String name) {
    consumed.add(name);
  }

  /** Names of the tensors neither read nor marked consumed, sorted. */
  public SortedSet<String> unconsumed() {
    SortedSet<String> out = new TreeSet<>(byTensor.keySet());
    out.removeAll(consumed);
    return out;
  }

  /**
   * Reads {@code name} as FLOAT32 and checks its shape.
   *
   * @param why what the expected shape comes from, for the error message
   */
  public NDArray read(NDManager manager, String name, long[] expectedShape, String why) {
    SafetensorsFile file = byTensor.get(name);
    if (file == null) {
      throw new CheckpointException("checkpoint " + dir + ": tensor '" + name + "' is missing");
    }
    long[] actual = file.tensors().get(name).shape();
    if (!Arrays.equals(actual, expectedShape)) {
      throw new CheckpointException("checkpoint " + dir + ": tensor '" + name + "' in " + file.path().getFileName()
          + " has shape " + Arrays.toString(actual) + " but config.json implies " + Arrays.toString(expectedShape)
          + " (" + why + ")");
    }
    consumed.add(name);
    return file.read(manager, name);
  }
}
