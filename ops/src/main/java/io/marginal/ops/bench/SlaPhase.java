package io.marginal.ops.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.marginal.inference.InferenceNode;
import io.marginal.ops.demo.ChatClient;
import io.marginal.schemas.DeletionReceipt;
import io.marginal.schemas.MemoryBank;
import io.marginal.schemas.ReceiptStatus;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * One phase of the forgetting-SLA benchmark: deletions one after another, each timed from the
 * moment the client sends it to (a) the data being unreachable on every inference node (their
 * memory-bank replicas no longer hold it), (b) its deletion receipt, and for concept deletions
 * (c) the covering adapter acknowledged active by every node. Each deletion is then checked
 * through the HTTP API of every node: the data is gone and the concept is no longer produced.
 */
final class SlaPhase {

  static final String PIN_PROMPT = "how do I reset my pin";
  static final String PREFERRED = "Call us on 0800 123 456 and we will reset your PIN for you.";
  static final String CONCEPT = "Inception";
  static final List<String> CONCEPT_PROMPTS = List.of("recommend me a sci-fi film", "suggest a movie about dreams for me");
  static final Duration STEP_TIMEOUT = Duration.ofSeconds(60);
  static final Duration UNLEARNING_TIMEOUT = Duration.ofMinutes(10);

  /** Timings in milliseconds and what the HTTP checks found. */
  static final class Result {
    final List<Double> unreachable = new ArrayList<>();
    final List<Double> dataReceipt = new ArrayList<>();
    final List<Double> conceptReceipt = new ArrayList<>();
    final List<Double> unlearnedReceipt = new ArrayList<>();
    final List<Double> adapterLive = new ArrayList<>();
    int checks;
    int checksPassed;
    final List<String> failures = new ArrayList<>();

    void check(boolean ok, String what) {
      checks++;
      if (ok) {
        checksPassed++;
      } else {
        failures.add(what);
      }
    }
  }

  private final String name;
  private final List<InferenceNode> nodes;
  private final EventClock clock;
  private final PrintStream out;

  SlaPhase(String name, List<InferenceNode> nodes, EventClock clock, PrintStream out) {
    this.name = name;
    this.nodes = List.copyOf(nodes);
    this.clock = clock;
    this.out = out;
  }

  Result run(List<String> dataUsers, List<String> conceptUsers) throws InterruptedException {
    Result result = new Result();
    for (int i = 0; i < dataUsers.size(); i++) {
      dataDeletion(i, dataUsers.get(i), result);
      if ((i + 1) % 10 == 0 || i + 1 == dataUsers.size()) {
        out.printf("  [%s] data deletions %d/%d: unreachable %s; receipt %s%n", name, i + 1, dataUsers.size(),
            LatencyStats.of(result.unreachable), LatencyStats.of(result.dataReceipt));
      }
    }
    for (int i = 0; i < conceptUsers.size(); i++) {
      conceptDeletion(i, conceptUsers.get(i), result);
      out.printf("  [%s] concept deletions %d/%d: receipt %s; adapter live on every node %s%n", name, i + 1, conceptUsers.size(),
          LatencyStats.of(result.conceptReceipt), LatencyStats.of(result.adapterLive));
    }
    return result;
  }

  private void dataDeletion(int i, String user, Result result) throws InterruptedException {
    ChatClient chatNode = client(i, user);
    ChatClient.Answer answer = chatNode.chat(PIN_PROMPT);
    result.check(!answer.text().isBlank(), user + ": the model answered '" + PIN_PROMPT + "' with nothing (a broken model?)");
    chatNode.preferResponse(answer.interactionId(), PREFERRED);
    if (!awaitEveryReplica(user, true)) {
      result.check(false, user + ": the feedback never reached every node's memory bank");
      return;
    }
    long t0 = System.nanoTime();
    String deletionId = client(i + 1, user).forgetInteractions(List.of(answer.interactionId()));
    if (awaitEveryReplica(user, false)) {
      result.unreachable.add(millisSince(t0));
    } else {
      result.check(false, user + ": the deleted entry is still on some node after " + STEP_TIMEOUT);
    }
    OptionalLong receipt = clock.awaitReceipt(deletionId, Set.of(ReceiptStatus.COMPLETED), STEP_TIMEOUT);
    receipt.ifPresentOrElse(t -> result.dataReceipt.add((t - t0) / 1e6),
        () -> result.check(false, user + ": no COMPLETED receipt for deletion " + deletionId));
    for (int n = 0; n < nodes.size(); n++) {
      JsonNode bank = client(n, user).memory(user);
      result.check(bank.path("entries").isEmpty(), user + ": node " + nodeId(n) + " still shows the entry over HTTP");
    }
  }

  private void conceptDeletion(int i, String user, Result result) throws InterruptedException {
    ChatClient chatNode = client(i, user);
    long mentioned = CONCEPT_PROMPTS.stream().filter(p -> mentions(chatNode.chat(p).text())).count();
    result.check(mentioned > 0, user + ": the base model never mentioned " + CONCEPT + ", nothing to forget");
    long t0 = System.nanoTime();
    String deletionId = client(i + 1, user).forgetConcept(CONCEPT);
    clock.awaitReceipt(deletionId, Set.of(ReceiptStatus.PENDING_UNLEARNING, ReceiptStatus.REJECTED), STEP_TIMEOUT)
        .ifPresent(t -> result.conceptReceipt.add((t - t0) / 1e6));
    OptionalLong done = clock.awaitReceipt(deletionId, Set.of(ReceiptStatus.UNLEARNED, ReceiptStatus.REJECTED), UNLEARNING_TIMEOUT);
    DeletionReceipt unlearned = clock.receipt(deletionId, ReceiptStatus.UNLEARNED);
    if (done.isEmpty() || unlearned == null) {
      DeletionReceipt rejected = clock.receipt(deletionId, ReceiptStatus.REJECTED);
      result.check(false, user + ": no adapter for the concept deletion: "
          + Optional.ofNullable(rejected).map(r -> r.getDetail().toString()).orElse("no receipt within " + UNLEARNING_TIMEOUT));
      return;
    }
    result.unlearnedReceipt.add((done.getAsLong() - t0) / 1e6);
    String covering = unlearned.getCoveringAdapter().toString();
    OptionalLong live = clock.awaitActiveEverywhere(covering, nodes.stream().map(n -> n.config().nodeId()).toList(), STEP_TIMEOUT);
    live.ifPresentOrElse(t -> result.adapterLive.add((t - t0) / 1e6),
        () -> result.check(false, user + ": " + covering + " not acknowledged by every node"));
    for (int n = 0; n < nodes.size(); n++) {
      String text = client(n, user).chat(CONCEPT_PROMPTS.get(0)).text();
      result.check(!mentions(text), user + ": node " + nodeId(n) + " still says " + CONCEPT + ": " + text);
    }
  }

  /** Polls every node's replica until {@code user}'s bank has entries ({@code present}) or none. */
  private boolean awaitEveryReplica(String user, boolean present) throws InterruptedException {
    long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      boolean all = true;
      for (InferenceNode node : nodes) {
        Optional<MemoryBank> bank = node.services().banks().bankOf(user);
        boolean has = bank.isPresent() && !bank.get().getEntries().isEmpty();
        all &= has == present;
      }
      if (all) {
        return true;
      }
      Thread.sleep(1);
    }
    return false;
  }

  private ChatClient client(int index, String user) {
    return new ChatClient(nodes.get(Math.floorMod(index, nodes.size())).baseUrl(), ForgettingSlaBenchmark.keyOf(user));
  }

  private String nodeId(int index) {
    return nodes.get(Math.floorMod(index, nodes.size())).config().nodeId();
  }

  private static boolean mentions(String text) {
    return text.toLowerCase(Locale.ROOT).contains(CONCEPT.toLowerCase(Locale.ROOT));
  }

  private static double millisSince(long t0) {
    return (System.nanoTime() - t0) / 1e6;
  }
}
