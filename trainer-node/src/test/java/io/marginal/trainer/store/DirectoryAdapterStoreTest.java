package io.marginal.trainer.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.model.weights.Sha256;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoryAdapterStoreTest {

  @TempDir
  Path tmp;

  private Path built(String content) throws Exception {
    Path dir = Files.createTempDirectory(tmp, "built");
    Files.writeString(dir.resolve("adapter_model.safetensors"), content);
    Files.writeString(dir.resolve("adapter_config.json"), "{}");
    return dir;
  }

  @Test
  void storesVersionsWithChecksumAndFindsThemByRequest() throws Exception {
    DirectoryAdapterStore store = new DirectoryAdapterStore(tmp.resolve("store"));
    StoredAdapter v1 = store.put("user-alice", 1, "req-1", built("weights one"));
    StoredAdapter v2 = store.put("user-alice", 2, "req-2", built("weights two"));

    assertEquals(List.of(1, 2), store.versions("user-alice").stream().map(StoredAdapter::version).toList());
    assertEquals(v2, store.latest("user-alice").orElseThrow());
    assertEquals(v1, store.producedBy("user-alice", "req-1").orElseThrow());
    // sha256("weights one")
    assertEquals("9a4ad2ab4c0bf9a7d2fc5e8cc38b70e2813bffc46627b0fc53e4e42a54cfdba8".length(), v1.sha256().length());
    assertEquals(Sha256.of(Path.of(v1.uri()).resolve("adapter_model.safetensors")), v1.sha256());
    assertTrue(Files.exists(Path.of(v1.uri()).resolve("adapter_config.json")));
  }

  @Test
  void versionsAreImmutableAndIdsCannotEscapeTheRoot() throws Exception {
    DirectoryAdapterStore store = new DirectoryAdapterStore(tmp.resolve("store"));
    store.put("shared-films", 1, "r", built("w"));
    IllegalStateException again = assertThrows(IllegalStateException.class, () -> store.put("shared-films", 1, "r2", built("x")));
    assertTrue(again.getMessage().contains("already exists"), again.getMessage());
    assertThrows(IllegalArgumentException.class, () -> store.put("../etc", 1, "r", built("w")));
  }

  @Test
  void deleteRemovesTheFilesAndAnUnfinishedWriteIsInvisible() throws Exception {
    DirectoryAdapterStore store = new DirectoryAdapterStore(tmp.resolve("store"));
    StoredAdapter v1 = store.put("user-bob", 1, "r", built("w"));
    Files.createDirectories(tmp.resolve("store/user-bob/v2")); // no publication.json: a crashed write
    assertEquals(1, store.versions("user-bob").size());
    store.delete("user-bob", 1);
    assertFalse(Files.exists(Path.of(v1.uri())));
    assertTrue(store.versions("user-bob").isEmpty());
  }

  @Test
  void refusesADirectoryWithoutWeights() throws Exception {
    DirectoryAdapterStore store = new DirectoryAdapterStore(tmp.resolve("store"));
    Path empty = Files.createTempDirectory(tmp, "empty");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> store.put("user-x", 1, "r", empty));
    assertTrue(e.getMessage().contains("adapter_model.safetensors is missing"), e.getMessage());
  }
}
