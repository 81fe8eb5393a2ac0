package io.marginal.inference.adapters;

import io.marginal.model.LanguageModel;
import io.marginal.model.adapters.AdapterFormatException;
import io.marginal.model.adapters.AdapterManifest;
import io.marginal.model.adapters.PeftAdapterReader;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.weights.Sha256;
import io.marginal.schemas.AdapterPublished;
import io.marginal.schemas.topics.AdapterScope;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Checks a published adapter version before anything of it is served, and loads it.
 *
 * <p>The store contract: the event's {@code uri} is a {@code file:} URI of
 * {@code <store>/<adapterId>/v<version>/} holding {@code adapter_config.json},
 * {@code adapter_model.safetensors} and the model module's manifest ({@link AdapterManifest#FILE_NAME}). The sha256 of the safetensors file must equal the event's and the
 * manifest's; the manifest's id, version and base model (when present) must match the event and
 * this node. The model module's reader then checks tensor names and shapes against the base model.
 * Every refusal names the adapter, the version, what was wrong, and what the node keeps serving.
 */
public final class AdapterVerifier {

  private final Path storeRoot;
  private final String baseModelId;

  public AdapterVerifier(Path storeRoot, String baseModelId) {
    this.storeRoot = storeRoot.toAbsolutePath().normalize();
    this.baseModelId = baseModelId;
  }

  /**
   * Verifies the files of {@code event}.
   *
   * @param keeping what stays in service if this fails, for the message ("keeping version 6")
   */
  public PublishedVersion verify(AdapterPublished event, String keeping) {
    return check(event, keeping, true).version();
  }

  /** A version that passed {@link #check} and the manifest it was checked against. */
  private record Checked(PublishedVersion version, AdapterManifest manifest) {}

  /** The checks of {@link #verify}; the file's sha256 only when {@code hash} (else the caller compares it with {@link #checkSha}). */
  private Checked check(AdapterPublished event, String keeping, boolean hash) {
    String label = "adapter " + event.getAdapterId() + " v" + event.getVersion();
    AdapterScope scope;
    try {
      scope = AdapterScope.parse(event.getScope());
    } catch (IllegalArgumentException e) {
      throw reject(label, e.getMessage(), keeping);
    }
    if (event.getBaseModel() != null && !event.getBaseModel().isBlank() && !event.getBaseModel().equals(baseModelId)) {
      throw reject(label, "trained for base model '" + event.getBaseModel() + "' but this node serves '" + baseModelId + "'", keeping);
    }
    if (event.getUri() == null || event.getSha256() == null) {
      throw reject(label, "the event has no uri or no sha256; a PUBLISHED event must carry both", keeping);
    }
    Path dir;
    try {
      URI uri = URI.create(event.getUri());
      if (!"file".equals(uri.getScheme())) {
        throw reject(label, "uri " + event.getUri() + " is not a file: URI of the adapter store", keeping);
      }
      dir = Path.of(uri).toAbsolutePath().normalize();
    } catch (IllegalArgumentException e) {
      throw reject(label, "uri '" + event.getUri() + "' is not a valid file: URI (" + e.getMessage() + ")", keeping);
    }
    if (!dir.startsWith(storeRoot)) {
      throw reject(label, dir + " is outside the adapter store " + storeRoot + " (MARGINAL_ADAPTER_STORE)", keeping);
    }
    Path weights = dir.resolve(PeftAdapterReader.WEIGHTS_FILE);
    if (!Files.isRegularFile(dir.resolve(PeftAdapterReader.CONFIG_FILE)) || !Files.isRegularFile(weights)) {
      throw reject(label, dir + " lacks " + PeftAdapterReader.CONFIG_FILE + " or " + PeftAdapterReader.WEIGHTS_FILE, keeping);
    }
    // The lexical check above is not enough: a symlink inside the store may point anywhere.
    Path realRoot = realPath(storeRoot, label, keeping);
    for (Path p : new Path[] {dir, weights, dir.resolve(PeftAdapterReader.CONFIG_FILE)}) {
      Path real = realPath(p, label, keeping);
      if (!real.startsWith(realRoot)) {
        throw reject(label, p + " resolves to " + real + ", outside the adapter store " + storeRoot
            + " (a symlink?); adapters must live in the store itself", keeping);
      }
    }
    AdapterManifest manifest;
    try {
      manifest = AdapterManifest.read(dir);
    } catch (AdapterFormatException e) {
      throw reject(label, e.getMessage(), keeping);
    }
    if (hash) {
      checkSha(event, manifest, sha256(weights), keeping);
    }
    if (manifest.id() != null && !manifest.id().isEmpty() && !manifest.id().equals(event.getAdapterId())) {
      throw reject(label, "manifest names adapter '" + manifest.id() + "'", keeping);
    }
    if (manifest.version() != 0 && manifest.version() != event.getVersion()) {
      throw reject(label, "manifest names version " + manifest.version(), keeping);
    }
    if (manifest.baseModel() != null && !manifest.baseModel().isEmpty() && !manifest.baseModel().equals(baseModelId)) {
      throw reject(label, "manifest says base model '" + manifest.baseModel() + "' but this node serves '" + baseModelId + "'", keeping);
    }
    return new Checked(new PublishedVersion(event.getAdapterId(), scope, event.getVersion(), event.getSha256(), dir), manifest);
  }

  /** The file's sha256 must equal the event's and its manifest's. */
  private static void checkSha(AdapterPublished event, AdapterManifest manifest, String fileSha, String keeping) {
    String label = "adapter " + event.getAdapterId() + " v" + event.getVersion();
    if (!fileSha.equals(event.getSha256())) {
      throw reject(label, "sha256 mismatch (expected " + event.getSha256() + ", got " + fileSha + ")", keeping);
    }
    String manifestSha = manifest.sha256() == null ? "" : manifest.sha256();
    if (!manifestSha.equals(fileSha)) {
      throw reject(label, "sha256 mismatch with its manifest (manifest says " + (manifestSha.isEmpty() ? "nothing" : manifestSha)
          + ", file is " + fileSha + ")", keeping);
    }
  }

  /** Reads the tensors of a verified version, checking the sha256 of the bytes read (the file may have changed since). */
  public LoraAdapter load(PublishedVersion version, LanguageModel model, String keeping) {
    return readTensors(version, model, keeping).adapter();
  }

  /**
   * {@link #verify} and the tensors in one pass, for an adapter loaded as soon as its event arrives:
   * the file is read and hashed once, by the load, and that hash is the one verified.
   */
  public LoadedVersion verifyAndLoad(AdapterPublished event, LanguageModel model, String keeping) {
    Checked checked = check(event, keeping, false);
    PublishedVersion version = checked.version();
    PeftAdapterReader.ReadAdapter read = readTensors(version, model, keeping);
    try {
      checkSha(event, checked.manifest(), read.sha256(), keeping);
    } catch (AdapterRejectedException e) {
      read.adapter().close();
      throw e;
    }
    return new LoadedVersion(version, read.adapter());
  }

  /** A verified version and its tensors. */
  public record LoadedVersion(PublishedVersion version, LoraAdapter adapter) {}

  /** Reads the tensors; the reader hashes the bytes it parses (the only hash of a load). */
  private static PeftAdapterReader.ReadAdapter readTensors(PublishedVersion version, LanguageModel model, String keeping) {
    String label = "adapter " + version.adapterId() + " v" + version.version();
    try {
      return PeftAdapterReader.readWithManifest(version.directory(), model.config(), model.manager(), version.sha256());
    } catch (RuntimeException e) {
      throw reject(label, e.getMessage(), keeping);
    }
  }

  private static Path realPath(Path p, String label, String keeping) {
    try {
      return p.toRealPath();
    } catch (IOException e) {
      throw reject(label, "cannot resolve " + p + ": " + e.getMessage(), keeping);
    }
  }

  private static AdapterRejectedException reject(String label, String why, String keeping) {
    return new AdapterRejectedException(label + ": " + why + "; " + keeping);
  }

  static String sha256(Path file) {
    try {
      return Sha256.of(file);
    } catch (UncheckedIOException e) {
      throw new AdapterRejectedException(e.getMessage(), e);
    }
  }
}
