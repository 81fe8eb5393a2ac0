package io.marginal.inference.adapters;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marginal.model.LanguageModel;
import io.marginal.model.adapters.AdapterManifest;
import io.marginal.model.adapters.PeftAdapterReader;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.schemas.AdapterPublished;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Checks a published adapter version before anything of it is served, and loads it.
 *
 * <p>The store contract: the event's {@code uri} is a {@code file:} URI of
 * {@code <store>/<adapterId>/v<version>/} holding {@code adapter_config.json},
 * {@code adapter_model.safetensors} and a manifest ({@code manifest.json}, or the model module's
 * {@code adapter_manifest.json}). The sha256 of the safetensors file must equal the event's and the
 * manifest's; the manifest's id, version and base model (when present) must match the event and
 * this node. The model module's reader then checks tensor names and shapes against the base model.
 * Every refusal names the adapter, the version, what was wrong, and what the node keeps serving.
 */
public final class AdapterVerifier {

  private static final ObjectMapper JSON = new ObjectMapper();
  static final String TRAINER_MANIFEST = "manifest.json";

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
    return check(event, keeping, true);
  }

  /** The checks of {@link #verify}; the file's sha256 only when {@code hash} (else the caller compares it with {@link #checkSha}). */
  private PublishedVersion check(AdapterPublished event, String keeping, boolean hash) {
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
    JsonNode manifest = readManifest(label, dir, keeping);
    if (hash) {
      checkSha(event, dir, sha256(weights), keeping);
    }
    String manifestId = manifest.path("id").asText(manifest.path("adapterId").asText(""));
    if (!manifestId.isEmpty() && !manifestId.equals(event.getAdapterId())) {
      throw reject(label, "manifest names adapter '" + manifestId + "'", keeping);
    }
    JsonNode version = manifest.has("version") ? manifest.get("version") : null;
    if (version != null && version.asLong() != 0 && version.asLong() != event.getVersion()) {
      throw reject(label, "manifest names version " + version.asLong(), keeping);
    }
    String manifestBase = manifest.path("base_model").asText(manifest.path("baseModel").asText(""));
    if (!manifestBase.isEmpty() && !manifestBase.equals(baseModelId)) {
      throw reject(label, "manifest says base model '" + manifestBase + "' but this node serves '" + baseModelId + "'", keeping);
    }
    return new PublishedVersion(event.getAdapterId(), scope, event.getVersion(), event.getSha256(), dir);
  }

  /** The file's sha256 must equal the event's and its manifest's. */
  private void checkSha(AdapterPublished event, Path dir, String fileSha, String keeping) {
    String label = "adapter " + event.getAdapterId() + " v" + event.getVersion();
    if (!fileSha.equals(event.getSha256())) {
      throw reject(label, "sha256 mismatch (expected " + event.getSha256() + ", got " + fileSha + ")", keeping);
    }
    String manifestSha = readManifest(label, dir, keeping).path("sha256").asText("");
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
   * the file is hashed once (by the verification), not again by the load.
   */
  public LoadedVersion verifyAndLoad(AdapterPublished event, LanguageModel model, String keeping) {
    PublishedVersion version = check(event, keeping, false);
    PeftAdapterReader.ReadAdapter read = readTensors(version, model, keeping);
    try {
      checkSha(event, version.directory(), read.sha256(), keeping);
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

  private JsonNode readManifest(String label, Path dir, String keeping) {
    Path file = Files.isRegularFile(dir.resolve(TRAINER_MANIFEST)) ? dir.resolve(TRAINER_MANIFEST) : dir.resolve(AdapterManifest.FILE_NAME);
    if (!Files.isRegularFile(file)) {
      throw reject(label, "no manifest in " + dir + " (expected " + TRAINER_MANIFEST + " or " + AdapterManifest.FILE_NAME + ")", keeping);
    }
    try {
      JsonNode node = JSON.readTree(file.toFile());
      if (node == null || !node.isObject()) {
        throw reject(label, file.getFileName() + " is not a JSON object", keeping);
      }
      return node;
    } catch (IOException e) {
      throw reject(label, file.getFileName() + " is not valid JSON: " + e.getMessage(), keeping);
    }
  }

  private static AdapterRejectedException reject(String label, String why, String keeping) {
    return new AdapterRejectedException(label + ": " + why + "; " + keeping);
  }

  static String sha256(Path file) {
    try (DigestInputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
      InputStream s = in;
      byte[] buffer = new byte[1 << 16];
      while (s.read(buffer) >= 0) {
        // digesting
      }
      return HexFormat.of().formatHex(in.getMessageDigest().digest());
    } catch (IOException e) {
      throw new AdapterRejectedException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
