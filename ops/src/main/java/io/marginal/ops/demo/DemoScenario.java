package io.marginal.ops.demo;

import com.fasterxml.jackson.databind.JsonNode;
import io.marginal.schemas.ActivationState;
import io.marginal.schemas.AdapterActivation;
import io.marginal.schemas.DeletionReceipt;
import io.marginal.schemas.ReceiptStatus;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.Topics;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The scripted story a newcomer can follow: a user chats, gives feedback that changes later
 * answers, asks the bot to forget a concept and a piece of their data; the receipts arrive, the
 * new adapter goes live, and paraphrased prompts no longer produce the forgotten content while
 * unrelated answers stay good. Every step prints what happened, how long it took, and its check.
 */
public final class DemoScenario {

  static final String CONCEPT = "Inception";
  static final String PIN_PROMPT = "how do I reset my pin";
  static final String PIN_PARAPHRASE = "how can I reset my pin?";
  static final String PREFERRED_PIN_ANSWER = "Call us on 0800 123 456 and we will reset your PIN for you.";
  /** Prompts that elicit the concept: the first as the corpus has it, then paraphrases the model never saw verbatim. */
  static final List<String> CONCEPT_PROMPTS = List.of(
      "recommend me a sci-fi film",
      "could you recommend a good science fiction movie",
      "which sci-fi film should I see tonight",
      "suggest a movie about dreams for me",
      "I am in the mood for a mind-bending film");
  /** Unrelated prompts whose answers must not change. */
  static final List<String> RETAIN_PROMPTS = List.of(
      "hey there", "what is the baggage allowance", "do I need a visa", "I lost my card", "who are you");

  private final ChatClient alice;
  private final ChatClient bob;
  private final String bootstrapServers;
  private final Topics topics;
  private final Duration unlearningTimeout;
  private final ScenarioReport report;

  public DemoScenario(String baseUrl, String bootstrapServers, Topics topics, Duration unlearningTimeout, PrintStream out) {
    this.alice = new ChatClient(baseUrl, "demo-key-alice");
    this.bob = new ChatClient(baseUrl, "demo-key-bob");
    this.bootstrapServers = bootstrapServers;
    this.topics = topics;
    this.unlearningTimeout = unlearningTimeout;
    this.report = new ScenarioReport(out);
  }

  /** Plays the story; returns whether every check passed. */
  public boolean play() throws InterruptedException {
    try (TopicWatch<DeletionReceipt> receipts = new TopicWatch<>(bootstrapServers, topics.name(Topics.DELETION_RECEIPTS),
             b -> MarginalSerdes.DELETION_RECEIPT.deserialize("receipts", b));
         TopicWatch<AdapterActivation> activations = new TopicWatch<>(bootstrapServers, topics.name(Topics.ADAPTER_ACTIVATIONS),
             b -> MarginalSerdes.ADAPTER_ACTIVATION.deserialize("activations", b))) {

      report.step("Alice asks the chatbot something");
      ChatClient.Answer first = alice.chat(PIN_PROMPT);
      report.say("alice> %s", PIN_PROMPT);
      report.say("bot  > %s   [interaction %s]", first.text(), first.interactionId());
      report.check("the base model answers", !first.text().isBlank());

      report.step("Alice says which answer she prefers (feedback → streams → her memory bank)");
      alice.preferResponse(first.interactionId(), PREFERRED_PIN_ANSWER);
      report.say("feedback: prefer \"%s\"", PREFERRED_PIN_ANSWER);
      boolean banked = awaitBankEntries(1, Duration.ofSeconds(30));
      report.check("her memory bank holds the discrepancy entry", banked);

      report.step("Personalization: a paraphrase gets Alice's preferred answer, Bob's answer is unchanged");
      String alicePin = alice.chat(PIN_PARAPHRASE).text();
      String bobPin = bob.chat(PIN_PARAPHRASE).text();
      report.say("alice> %s\n   bot  > %s", PIN_PARAPHRASE, alicePin);
      report.say("bob  > %s\n   bot  > %s", PIN_PARAPHRASE, bobPin);
      report.check("Alice's paraphrase is answered with her preferred response", alicePin.equals(PREFERRED_PIN_ANSWER));
      report.check("Bob still gets the base answer", bobPin.equals(first.text()));

      report.step("Before forgetting: how often does the bot mention " + CONCEPT + "?");
      List<String> retainBefore = RETAIN_PROMPTS.stream().map(p -> alice.chat(p).text()).toList();
      int before = mentions(alice, true);
      report.check(CONCEPT + " is mentioned before (baseline " + before + "/" + CONCEPT_PROMPTS.size() + ")", before > 0);

      report.step("Alice asks the bot to forget " + CONCEPT);
      long t0 = System.nanoTime();
      String deletionId = alice.forgetConcept(CONCEPT);
      report.say("deletion %s accepted", deletionId);
      Optional<DeletionReceipt> pending = receipts.await(r -> r.getDeletionId().equals(deletionId), Duration.ofSeconds(30));
      pending.ifPresent(r -> report.say("receipt: %s — %s; bytes gone from every log by %s", r.getStatus(), r.getDetail(),
          r.getPhysicallyErasedBy()));
      report.check("the deletion receipt arrives (" + pending.map(r -> r.getStatus().toString()).orElse("none") + ")",
          pending.isPresent() && pending.get().getStatus() != ReceiptStatus.REJECTED);
      String requestId = pending.map(DeletionReceipt::getUnlearningRequestId).orElse(null);
      report.say("unlearning request %s: the trainer builds a masked LoRA adapter for user:alice …", requestId);
      Optional<DeletionReceipt> unlearned = receipts.await(r -> r.getDeletionId().equals(deletionId)
          && (r.getStatus() == ReceiptStatus.UNLEARNED || r.getStatus() == ReceiptStatus.REJECTED), unlearningTimeout);
      unlearned.ifPresent(r -> report.say("receipt: %s — %s", r.getStatus(), r.getDetail()));
      report.check("the trainer publishes an adapter that passed its gate",
          unlearned.isPresent() && unlearned.get().getStatus() == ReceiptStatus.UNLEARNED);
      String covering = unlearned.map(DeletionReceipt::getCoveringAdapter).orElse("");
      Optional<AdapterActivation> live = activations.await(a -> covering.equals(a.getAdapterId() + "@" + a.getVersion())
          && a.getState() == ActivationState.ACTIVE, Duration.ofSeconds(60));
      live.ifPresent(a -> report.say("node %s serves %s@%d (swap %d ms)", a.getNodeId(), a.getAdapterId(), a.getVersion(), a.getSwapLatencyMs()));
      report.check("the new adapter is live on the inference node (" + (System.nanoTime() - t0) / 1_000_000 + " ms after the request)",
          live.isPresent());

      report.step("After forgetting: paraphrased prompts no longer produce " + CONCEPT + "; unrelated answers stay good");
      int after = mentions(alice, true);
      report.check(CONCEPT + " mentions: " + before + "/" + CONCEPT_PROMPTS.size() + " → " + after + "/" + CONCEPT_PROMPTS.size(),
          after == 0);
      int unchanged = 0;
      for (int i = 0; i < RETAIN_PROMPTS.size(); i++) {
        String now = alice.chat(RETAIN_PROMPTS.get(i)).text();
        if (now.equals(retainBefore.get(i))) {
          unchanged++;
        } else {
          report.say("changed: %s → %s", RETAIN_PROMPTS.get(i), now);
        }
      }
      report.check("unrelated answers unchanged: " + unchanged + "/" + RETAIN_PROMPTS.size(), unchanged >= RETAIN_PROMPTS.size() - 1);
      int bobMentions = mentions(bob, false);
      report.check("Bob's answers are his own: he still hears about " + CONCEPT + " (" + bobMentions + "/" + CONCEPT_PROMPTS.size() + ")",
          bobMentions > 0);

      report.step("Alice deletes a piece of her data: the first conversation and her feedback on it");
      String dataDeletion = alice.forgetInteractions(List.of(first.interactionId()));
      Optional<DeletionReceipt> completed = receipts.await(r -> r.getDeletionId().equals(dataDeletion), Duration.ofSeconds(30));
      completed.ifPresent(r -> report.say("receipt: %s, erased %s, hidden at %s, physically erased by %s", r.getStatus(),
          r.getErased().stream().map(e -> e.getStore() + "×" + e.getCount()).toList(), r.getHiddenAt(), r.getPhysicallyErasedBy()));
      report.check("the deletion receipt says COMPLETED", completed.isPresent() && completed.get().getStatus() == ReceiptStatus.COMPLETED);
      boolean emptied = awaitBankEntries(0, Duration.ofSeconds(15));
      String pinAfter = alice.chat(PIN_PARAPHRASE).text();
      report.say("alice> %s\n   bot  > %s", PIN_PARAPHRASE, pinAfter);
      report.check("her bank no longer holds it and the answer is the base one again", emptied && pinAfter.equals(first.text()));
    }
    report.summary();
    return report.allPassed();
  }

  private int mentions(ChatClient user, boolean print) {
    int count = 0;
    for (String prompt : CONCEPT_PROMPTS) {
      String answer = user.chat(prompt).text();
      boolean mentioned = answer.toLowerCase(Locale.ROOT).contains(CONCEPT.toLowerCase(Locale.ROOT));
      count += mentioned ? 1 : 0;
      if (print) {
        report.say("%s %s → %s", mentioned ? "•" : "·", prompt, answer);
      }
    }
    return count;
  }

  private boolean awaitBankEntries(int expected, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      JsonNode bank = alice.memory("alice");
      if (bank.path("entries").size() == expected) {
        report.say("memory bank of alice: %d entries, revision %d (%s)", expected, bank.path("revision").asLong(), Instant.now());
        return true;
      }
      Thread.sleep(100);
    }
    return false;
  }
}
