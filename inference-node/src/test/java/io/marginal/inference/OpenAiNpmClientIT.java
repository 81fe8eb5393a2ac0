package io.marginal.inference;

import static io.marginal.inference.TestCluster.ALICE_KEY;
import static io.marginal.inference.TestCluster.MODEL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The official {@code openai} npm client, unchanged, against the node: list models, a chat
 * completion, a streamed one, and an OpenAI-shaped error it understands. Installs the client into
 * {@code target/npm} with npm (needs the npm registry once); skipped only when npm is absent.
 */
class OpenAiNpmClientIT {

  @Test
  void theOfficialOpenAiNodeClientWorksAgainstTheNode() throws Exception {
    Assumptions.assumeTrue(onPath("npm") && onPath("node"), "npm/node not on the PATH: the openai npm client test needs them");
    Path dir = Path.of("target", "npm").toAbsolutePath();
    Files.createDirectories(dir);
    if (!Files.isDirectory(dir.resolve("node_modules/openai"))) {
      Process install = new ProcessBuilder("npm", "install", "--prefix", dir.toString(), "--no-audit", "--no-fund", "openai@4")
          .redirectErrorStream(true).start();
      String log = read(install.getInputStream());
      assertTrue(install.waitFor(180, TimeUnit.SECONDS), "npm install timed out");
      assertEquals(0, install.exitValue(), "npm install openai failed:\n" + log);
    }
    try (InputStream script = getClass().getResourceAsStream("/npm/openai-client.mjs")) {
      Files.copy(script, dir.resolve("openai-client.mjs"), StandardCopyOption.REPLACE_EXISTING);
    }
    try (TestCluster cluster = new TestCluster(); InferenceNode node = cluster.startNode("node-npm", Map.of())) {
      ProcessBuilder pb = new ProcessBuilder("node", "openai-client.mjs").directory(dir.toFile()).redirectErrorStream(true);
      Map<String, String> env = pb.environment();
      env.put("MARGINAL_BASE_URL", node.baseUrl() + "/v1");
      env.put("MARGINAL_API_KEY", ALICE_KEY);
      env.put("MARGINAL_MODEL", MODEL);
      Process p = pb.start();
      String out = read(p.getInputStream());
      assertTrue(p.waitFor(120, TimeUnit.SECONDS), "node script timed out:\n" + out);
      assertEquals(0, p.exitValue(), "node script failed:\n" + out);
      Map<String, JsonObject> checks = new HashMap<>();
      for (String line : out.split("\n")) {
        if (line.startsWith("{")) {
          JsonObject o = new JsonObject(line);
          checks.put(o.getString("check"), o);
        }
      }
      assertTrue(checks.get("models").getJsonArray("ids").contains(MODEL), out);
      JsonObject completion = checks.get("completion");
      assertTrue(completion.getString("id").startsWith("chatcmpl-"), out);
      assertFalse(completion.getString("content").isEmpty(), out);
      assertTrue(List.of("stop", "length").contains(completion.getString("finish")), out);
      assertTrue(completion.getJsonObject("usage").getInteger("completion_tokens") > 0, out);
      JsonObject stream = checks.get("stream");
      assertEquals(completion.getString("content"), stream.getString("content"), "same greedy answer, streamed:\n" + out);
      assertTrue(stream.getInteger("chunks") >= 3, out);
      assertTrue(List.of("stop", "length").contains(stream.getString("finish")), out);
      JsonObject error = checks.get("error");
      assertEquals(404, error.getInteger("status"), out);
      assertEquals("model_not_found", error.getString("code"), out);
      assertEquals("invalid_request_error", error.getString("type"), out);
    }
  }

  private static boolean onPath(String tool) {
    try {
      Process p = new ProcessBuilder(tool, "--version").redirectErrorStream(true).start();
      read(p.getInputStream());
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private static String read(InputStream in) throws IOException {
    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
  }
}
