package io.marginal.inference.adapters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.model.adapters.PeftAdapterReader;
import io.marginal.schemas.AdapterPublished;
import io.marginal.schemas.AdapterStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** File-level checks of a published version, before any tensor is read. */
class AdapterVerifierTest {

  @TempDir Path tmp;

  @Test
  void aVersionDirectoryInsideTheStoreIsAccepted() throws Exception {
    Path store = Files.createDirectories(tmp.resolve("store"));
    Path dir = writeAdapterFiles(store.resolve("user-alice").resolve("v1"));

    PublishedVersion v = new AdapterVerifier(store, "base").verify(event(dir), "keeping nothing");

    assertEquals(1, v.version());
  }

  @Test
  void aSymlinkInsideTheStorePointingOutsideIsRefused() throws Exception {
    Path store = Files.createDirectories(tmp.resolve("store"));
    Path outside = writeAdapterFiles(tmp.resolve("elsewhere").resolve("v1"));
    Path link = store.resolve("user-alice").resolve("v1");
    Files.createDirectories(link.getParent());
    Files.createSymbolicLink(link, outside);

    AdapterRejectedException e = assertThrows(AdapterRejectedException.class,
        () -> new AdapterVerifier(store, "base").verify(event(link), "keeping version 0"));

    assertTrue(e.getMessage().contains("outside the adapter store"), e.getMessage());
    assertTrue(e.getMessage().endsWith("keeping version 0"), e.getMessage());
  }

  @Test
  void aWeightsFileSymlinkedOutOfTheStoreIsRefused() throws Exception {
    Path store = Files.createDirectories(tmp.resolve("store"));
    Path outside = writeAdapterFiles(tmp.resolve("elsewhere").resolve("v1"));
    Path dir = Files.createDirectories(store.resolve("user-alice").resolve("v1"));
    Files.copy(outside.resolve(PeftAdapterReader.CONFIG_FILE), dir.resolve(PeftAdapterReader.CONFIG_FILE));
    Files.copy(outside.resolve("adapter_manifest.json"), dir.resolve("adapter_manifest.json"));
    Files.createSymbolicLink(dir.resolve(PeftAdapterReader.WEIGHTS_FILE), outside.resolve(PeftAdapterReader.WEIGHTS_FILE));

    AdapterRejectedException e = assertThrows(AdapterRejectedException.class,
        () -> new AdapterVerifier(store, "base").verify(event(dir), "keeping version 0"));

    assertTrue(e.getMessage().contains(PeftAdapterReader.WEIGHTS_FILE + " resolves to"), e.getMessage());
  }

  private static Path writeAdapterFiles(Path dir) throws Exception {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(PeftAdapterReader.CONFIG_FILE), "{\"peft_type\": \"LORA\", \"r\": 1}");
    Files.write(dir.resolve(PeftAdapterReader.WEIGHTS_FILE), new byte[] {1, 2, 3, 4});
    String sha = AdapterVerifier.sha256(dir.resolve(PeftAdapterReader.WEIGHTS_FILE));
    Files.writeString(dir.resolve("adapter_manifest.json"), "{\"id\": \"user-alice\", \"version\": 1, \"sha256\": \"" + sha + "\"}");
    return dir;
  }

  private static AdapterPublished event(Path dir) throws Exception {
    return AdapterPublished.newBuilder().setAdapterId("user-alice").setScope("user:alice").setVersion(1)
        .setStatus(AdapterStatus.PUBLISHED).setBaseModel("base").setUri(dir.toUri().toString())
        .setSha256(AdapterVerifier.sha256(dir.resolve(PeftAdapterReader.WEIGHTS_FILE))).setRequestId("req-1")
        .setTimestamp(Instant.EPOCH).build();
  }
}
