package io.marginal.trainer.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.marginal.model.weights.Sha256;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The default adapter store: {@code <root>/<adapterId>/v<version>/} holding the PEFT files,
 * the model module's {@code adapter_manifest.json}, and {@code publication.json} (request id, checksum, size) written last
 * — a version without it is an unfinished write and is ignored.
 */
public final class DirectoryAdapterStore implements AdapterStore {

  static final String WEIGHTS = "adapter_model.safetensors";
  static final String PUBLICATION = "publication.json";
  private static final Pattern VERSION_DIR = Pattern.compile("v(\\d+)");
  private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9._-]+");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path root;

  public DirectoryAdapterStore(Path root) {
    this.root = root;
    try {
      Files.createDirectories(root);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create adapter store " + root, e);
    }
  }

  public Path root() {
    return root;
  }

  @Override
  public StoredAdapter put(String adapterId, int version, String requestId, Path builtAdapterDir) {
    requireSafe(adapterId);
    Path weights = builtAdapterDir.resolve(WEIGHTS);
    if (!Files.isRegularFile(weights)) {
      throw new IllegalArgumentException("adapter " + adapterId + " v" + version + ": " + weights + " is missing; nothing stored");
    }
    Path target = versionDir(adapterId, version);
    if (Files.exists(target.resolve(PUBLICATION))) {
      throw new IllegalStateException("adapter " + adapterId + " v" + version + " already exists in " + root + "; versions are immutable");
    }
    try {
      Files.createDirectories(target.getParent());
      Path staging = Files.createTempDirectory(target.getParent(), ".staging-v" + version + "-");
      copyTree(builtAdapterDir, staging);
      String sha = Sha256.of(staging.resolve(WEIGHTS));
      long size = Files.size(staging.resolve(WEIGHTS));
      ObjectNode publication = JSON.createObjectNode()
          .put("adapterId", adapterId).put("version", version).put("requestId", requestId)
          .put("sha256", sha).put("sizeBytes", size);
      JSON.writerWithDefaultPrettyPrinter().writeValue(staging.resolve(PUBLICATION).toFile(), publication);
      deleteTree(target);
      try {
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(staging, target);
      }
      return new StoredAdapter(adapterId, version, target.toUri(), sha, size, requestId);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot store adapter " + adapterId + " v" + version + " in " + root, e);
    }
  }

  @Override
  public List<StoredAdapter> versions(String adapterId) {
    requireSafe(adapterId);
    Path dir = root.resolve(adapterId);
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    List<StoredAdapter> found = new ArrayList<>();
    try (Stream<Path> children = Files.list(dir)) {
      for (Path child : (Iterable<Path>) children::iterator) {
        Matcher m = VERSION_DIR.matcher(child.getFileName().toString());
        if (m.matches() && Files.isRegularFile(child.resolve(PUBLICATION))) {
          ObjectNode p = (ObjectNode) JSON.readTree(child.resolve(PUBLICATION).toFile());
          found.add(new StoredAdapter(adapterId, Integer.parseInt(m.group(1)), child.toUri(), p.get("sha256").asText(),
              p.get("sizeBytes").asLong(), p.get("requestId").asText()));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list adapter " + adapterId + " in " + root, e);
    }
    found.sort(Comparator.comparingInt(StoredAdapter::version));
    return found;
  }

  @Override
  public void delete(String adapterId, int version) {
    requireSafe(adapterId);
    try {
      deleteTree(versionDir(adapterId, version));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete adapter " + adapterId + " v" + version, e);
    }
  }

  private Path versionDir(String adapterId, int version) {
    return root.resolve(adapterId).resolve("v" + version);
  }

  private static void requireSafe(String adapterId) {
    if (adapterId == null || !SAFE_ID.matcher(adapterId).matches()) {
      throw new IllegalArgumentException("adapter id must match " + SAFE_ID.pattern() + ", got " + adapterId);
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path p : (Iterable<Path>) paths::iterator) {
        Path dest = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(dest);
        } else {
          Files.copy(p, dest, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  /** Deletes {@code dir} and everything under it, if it exists. */
  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    }
  }
}
