package io.marginal.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.DeletionRequest;
import io.marginal.schemas.DeletionScope;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.FeedbackKind;
import io.marginal.schemas.MemoryBank;
import io.marginal.schemas.ReceiptStatus;
import io.marginal.schemas.TransitionCount;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.Topics;
import io.marginal.personalization.bank.BankChanges;
import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The web console in a real headless browser: Debian's {@code chromium} driven by
 * {@code playwright-core} (a Node script, {@code browser/console-check.mjs}) against a node on an
 * embedded broker. Signs in with a demo key, streams a chat answer, forgets it, forgets a concept,
 * sees a deletion receipt published from here, and saves {@code target/console.png}.
 *
 * <p>Set-up installs what it lacks: chromium with apt-get (only as root, only if apt-get exists),
 * playwright-core with npm into {@code target/browser} (never {@code npx playwright install}:
 * browser downloads are blocked here, the system browser is used). If either cannot be had the
 * test is skipped with the reason.
 */
class ConsoleBrowserIT {

  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path BROWSER_DIR = Path.of("target", "browser").toAbsolutePath();
  private static final Path SCREENSHOT = Path.of("target", "console.png").toAbsolutePath();
  private static final int WIDTH = 1280;
  private static final int HEIGHT = 900;

  @BeforeAll
  static void installBrowser() throws Exception {
    if (!Files.isExecutable(CHROMIUM)) {
      Assumptions.assumeTrue(isRoot() && onPath("apt-get"), "/usr/bin/chromium is absent and cannot be installed here ("
          + (isRoot() ? "no apt-get" : "not running as root") + "): install Debian's chromium package to run the console browser test");
      Map<String, String> env = Map.of("DEBIAN_FRONTEND", "noninteractive");
      Outcome update = run(List.of("apt-get", "update"), env, Duration.ofMinutes(5));
      Outcome install = update.ok()
          ? run(List.of("apt-get", "install", "-y", "--no-install-recommends", "chromium"), env, Duration.ofMinutes(10))
          : update;
      if (!install.ok() || !Files.isExecutable(CHROMIUM)) {
        System.err.println("chromium installation failed:\n" + tail(update.log()) + "\n" + tail(install.log()));
      }
      Assumptions.assumeTrue(Files.isExecutable(CHROMIUM), "chromium could not be installed with apt-get (exit "
          + install.exit() + "; output above): the console browser test needs /usr/bin/chromium");
    }
    Assumptions.assumeTrue(onPath("node") && onPath("npm"), "node/npm are not on the PATH: the console browser test drives"
        + " chromium with playwright-core from npm");
    Files.createDirectories(BROWSER_DIR);
    if (!Files.isDirectory(BROWSER_DIR.resolve("node_modules/playwright-core"))) {
      Outcome npm = run(List.of("npm", "install", "--prefix", BROWSER_DIR.toString(), "--no-audit", "--no-fund", "playwright-core"),
          Map.of(), Duration.ofMinutes(3));
      if (!npm.ok()) {
        System.err.println("npm install playwright-core failed:\n" + tail(npm.log()));
      }
      Assumptions.assumeTrue(npm.ok(), "npm could not install playwright-core (exit " + npm.exit()
          + "; is the npm registry reachable?): the console browser test needs it");
    }
    try (InputStream script = ConsoleBrowserIT.class.getResourceAsStream("/browser/console-check.mjs")) {
      Files.copy(script, BROWSER_DIR.resolve("console-check.mjs"), StandardCopyOption.REPLACE_EXISTING);
    }
  }

  @Test
  void theConsoleChatsForgetsAndShowsReceiptsInARealBrowser() throws Exception {
    Files.deleteIfExists(SCREENSHOT);
    Files.deleteIfExists(Path.of(SCREENSHOT.toString().replace(".png", "-failure.png")));
    try (TestCluster cluster = new TestCluster();
        InferenceNode node = cluster.startNode("node-console", Map.of("MARGINAL_API_KEYS", "demo-key-alice:alice,demo-key-bob:bob"))) {
      publishBank(cluster, "Recommend a film for tonight.", "Watch something long.", "Casablanca, at 9 pm.");
      cluster.publishReceipt("alice", "del-console-1", DeletionScope.ALL_USER_DATA, ReceiptStatus.COMPLETED);
      cluster.publishReceipt("alice", "del-console-2", DeletionScope.CONCEPT, ReceiptStatus.PENDING_UNLEARNING);
      cluster.publishReceipt("bob", "del-bob-secret", DeletionScope.INTERACTION, ReceiptStatus.COMPLETED);

      ProcessBuilder pb = new ProcessBuilder("node", "console-check.mjs").directory(BROWSER_DIR.toFile()).redirectErrorStream(true);
      pb.environment().putAll(Map.of("CONSOLE_URL", node.baseUrl(), "API_KEY", "demo-key-alice", "RECEIPT_ID", "del-console-2",
          "OTHER_RECEIPT_ID", "del-bob-secret", "SCREENSHOT", SCREENSHOT.toString(), "CHROMIUM", CHROMIUM.toString()));
      long started = System.nanoTime();
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(90, TimeUnit.SECONDS), "browser script timed out:\n" + out);
      System.out.printf("console browser script: %.1f s%n", (System.nanoTime() - started) / 1e9);
      JsonObject result = out.lines().filter(l -> l.startsWith("{\"")).map(JsonObject::new).reduce((a, b) -> b)
          .orElseThrow(() -> new AssertionError("browser script printed no result:\n" + out));
      assertEquals(0, p.exitValue(), "browser script failed:\n" + out);
      assertEquals("console", result.getString("check"), out);

      assertEquals("Marginal console", result.getString("title"));
      assertEquals("alice", result.getString("user"));
      assertEquals("demo-key-alice", result.getString("keyInSessionStorage"));
      assertEquals("done", result.getString("answerState"), out);
      assertFalse(result.getString("answer").isBlank(), "the streamed answer is empty:\n" + out);
      String interactionId = result.getString("interactionId");
      assertTrue(interactionId != null && interactionId.length() > 8 && !interactionId.equals("?"), "no interaction id shown:\n" + out);
      assertEquals("base model only", result.getString("adaptersShown"), out);
      assertEquals("How do I reset my <b>password</b>?", result.getString("userBubble"), "user text shown as typed");
      assertEquals(0, result.getInteger("injectedElements"), "user text must never become markup");
      assertTrue(result.getJsonArray("modelOptions").contains(TestCluster.MODEL), out);

      assertTrue(result.getString("thumbsStatus").contains("thumbs_up"), out);
      Feedback thumbs = cluster.await(Topics.FEEDBACK, b -> MarginalSerdes.FEEDBACK.deserialize(Topics.FEEDBACK, b),
          f -> f.getInteractionId().equals(interactionId), Duration.ofSeconds(20));
      assertEquals(FeedbackKind.THUMBS_UP, thumbs.getKind());
      assertTrue(result.getString("forgetThisStatus").contains("accepted"), out);
      DeletionRequest forgetThis = cluster.await(Topics.DELETIONS, b -> MarginalSerdes.DELETION_REQUEST.deserialize(Topics.DELETIONS, b),
          d -> d.getScope() == DeletionScope.INTERACTION && d.getTargetIds().contains(interactionId), Duration.ofSeconds(20));
      assertEquals("alice", forgetThis.getUserId());

      assertTrue(result.getString("conceptStatus").contains("deletion accepted"), out);
      String conceptDeletion = result.getString("conceptDeletionId");
      DeletionRequest concept = cluster.await(Topics.DELETIONS, b -> MarginalSerdes.DELETION_REQUEST.deserialize(Topics.DELETIONS, b),
          d -> d.getDeletionId().equals(conceptDeletion), Duration.ofSeconds(20));
      assertEquals(DeletionScope.CONCEPT, concept.getScope());
      assertEquals("Casablanca", concept.getConcept());
      assertEquals("alice", concept.getUserId());

      assertEquals("pending unlearning", result.getString("receiptBadge"), out);
      assertTrue(result.getString("receiptText").contains("del-console-2"), out);
      assertTrue(result.getString("receiptText").contains("memory-bank-store"), out);
      assertFalse(result.getBoolean("otherUsersReceiptShown"), "bob's receipt appeared on alice's console:\n" + out);
      assertTrue(result.getString("adaptersPanel").contains(TestCluster.MODEL), out);
      assertTrue(result.getString("memoryPanel").contains("Casablanca, at 9 pm."), out);

      assertEquals(List.of(), result.getJsonArray("consoleErrors").getList(), "errors in the page's console:\n" + out);
      assertEquals(List.of(), result.getJsonArray("failedRequests").getList(), out);
      assertEquals(List.of(), result.getJsonArray("offOrigin").getList(), "the console fetched something from elsewhere");
    }
    assertScreenshotShowsAPage(SCREENSHOT.toFile());
  }

  /** One memory-bank entry for alice, as the streams app would write it (so the panel has something to show). */
  private static void publishBank(TestCluster cluster, String prompt, String modelResponse, String preferred) {
    List<Float> embedding = new java.util.ArrayList<>();
    for (float f : cluster.model.embed(prompt)) {
      embedding.add(f);
    }
    MemoryBank bank = MemoryBank.newBuilder().setUserId("alice").setRevision(1).setUpdatedAt(Instant.now())
        .setEntries(List.of(BankEntry.newBuilder().setEntryId("e1").setInteractionId("i-earlier").setFeedbackIds(List.of("f1"))
            .setInstanceEmbedding(embedding).setPrompt(prompt).setModelResponse(modelResponse).setPreferredResponse(preferred)
            .setWeight(3.0).setTimestamp(Instant.now()).build()))
        .setTransitions(List.of(new TransitionCount(modelResponse, preferred, 3.0))).build();
    // memory-banks.v2 carries one record per entry, as the streams app writes it
    cluster.send(Topics.MEMORY_BANKS, BankChanges.entryKey("alice", "e1"), BankChanges.SERDE.serialize(Topics.MEMORY_BANKS,
        BankChanges.upsert("alice", bank.getRevision(), bank.getUpdatedAt().toEpochMilli(), bank.getEntries().get(0))));
  }

  /** A PNG of the viewport's size with real content: many colours, not one flat background. */
  private static void assertScreenshotShowsAPage(File png) throws IOException {
    assertTrue(png.isFile(), "no screenshot at " + png);
    BufferedImage image = ImageIO.read(png);
    assertNotNull(image, png + " is not a readable PNG");
    assertEquals(WIDTH, image.getWidth());
    assertEquals(HEIGHT, image.getHeight());
    Set<Integer> colours = new HashSet<>();
    double sum = 0;
    double sumSq = 0;
    int n = 0;
    for (int y = 0; y < HEIGHT; y += 2) {
      for (int x = 0; x < WIDTH; x += 2) {
        int rgb = image.getRGB(x, y) & 0xFFFFFF;
        colours.add(rgb & 0xF0F0F0); // 4 bits a channel: anti-aliasing shades collapse
        double luma = 0.299 * (rgb >> 16 & 0xFF) + 0.587 * (rgb >> 8 & 0xFF) + 0.114 * (rgb & 0xFF);
        sum += luma;
        sumSq += luma * luma;
        n++;
      }
    }
    double mean = sum / n;
    double variance = sumSq / n - mean * mean;
    System.out.printf("screenshot %s: %dx%d, %d distinct colours (4-bit), luma mean %.1f, variance %.1f%n", png,
        image.getWidth(), image.getHeight(), colours.size(), mean, variance);
    assertTrue(colours.size() >= 12, "screenshot looks blank: only " + colours.size() + " colours");
    assertTrue(variance > 100, "screenshot looks flat: luma variance " + variance);
  }

  private record Outcome(int exit, String log) {
    boolean ok() {
      return exit == 0;
    }
  }

  private static Outcome run(List<String> command, Map<String, String> env, Duration timeout) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().putAll(env);
    File log = Files.createTempFile("console-it-", ".log").toFile();
    pb.redirectOutput(log);
    Process p = pb.start();
    boolean done = p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS);
    if (!done) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    String text = Files.readString(log.toPath(), StandardCharsets.UTF_8);
    Files.deleteIfExists(log.toPath());
    return new Outcome(done ? p.exitValue() : -1, String.join(" ", command) + (done ? "" : " (timed out after " + timeout + ")")
        + "\n" + text);
  }

  private static String tail(String log) {
    return log.length() <= 4000 ? log : "…" + log.substring(log.length() - 4000);
  }

  private static boolean isRoot() {
    try {
      Process p = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
      String uid = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      return p.waitFor(10, TimeUnit.SECONDS) && uid.equals("0");
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private static boolean onPath(String tool) {
    try {
      Process p = new ProcessBuilder(tool, "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }
}
