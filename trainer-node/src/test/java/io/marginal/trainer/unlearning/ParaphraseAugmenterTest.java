package io.marginal.trainer.unlearning;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ParaphraseAugmenterTest {

  private final ParaphraseAugmenter augmenter = new ParaphraseAugmenter();

  @Test
  void trainingPromptsWidenTheRequestAndNeverContainEvaluationProbes() {
    List<String> direct = List.of("recommend me a sci-fi film");
    List<String> training = augmenter.trainingPrompts("Inception", direct);
    List<String> heldOut = EvaluationProbes.all(ConceptCatalog.lookup("Inception"));

    assertTrue(training.containsAll(direct));
    assertTrue(training.contains("recommend me a sci-fi movie"), "synonym rewrite film → movie");
    assertTrue(training.contains("suggest a sci-fi film"), "synonym rewrite recommend me → suggest");
    assertTrue(training.contains("is Inception a good film"), "concept template filled");
    assertTrue(heldOut.contains("is Inception worth a watch"));
    assertTrue(heldOut.stream().noneMatch(training::contains), "evaluation probes are never trained on");
    assertTrue(augmenter.paraphrasePrompts("Inception", direct).stream().noneMatch(direct::contains));
  }

  @Test
  void evaluationProbesStayOutEvenWhenARequestRewritesIntoThem() {
    // "which sci-fi film is the best" is an evaluation probe; a request prompt that rewrites into it must not leak it
    List<String> training = augmenter.trainingPrompts("Inception", List.of("which sci-fi movie is the best"));
    assertFalse(training.contains("which sci-fi film is the best"));
  }

  @Test
  void aPrefixSettlesAMentionOnlyOnceACharacterFollowsIt() {
    assertFalse(ParaphraseAugmenter.settlesMention("You should watch Incep", "Inception"));
    assertFalse(ParaphraseAugmenter.settlesMention("You should watch Inception", "Inception"), "it may go on as Inceptions");
    assertFalse(ParaphraseAugmenter.settlesMention("You should watch Inception.", "Inception"), "nor is the last character settled");
    assertTrue(ParaphraseAugmenter.settlesMention("You should watch inception. It", "Inception"));
    assertFalse(ParaphraseAugmenter.settlesMention("You should watch Inceptions. It", "Inception"));
    assertFalse(ParaphraseAugmenter.settlesMention("an Alienated hero", "Alien"));
    // whatever follows a settling prefix, the whole text mentions the concept
    for (String rest : List.of("", "s", ". It is great", "x y")) {
      String prefix = "watch Inception. I";
      assertTrue(ParaphraseAugmenter.settlesMention(prefix, "Inception"));
      assertTrue(ParaphraseAugmenter.mentions(prefix + rest, "Inception"), rest);
    }
  }

  @Test
  void mentionsIsAWholeWordCaseInsensitiveMatch() {
    assertTrue(ParaphraseAugmenter.mentions("You should watch Inception.", "inception"));
    assertTrue(ParaphraseAugmenter.mentions("watch The Matrix, it is great", "The Matrix"));
    assertFalse(ParaphraseAugmenter.mentions("an Alienated hero", "Alien"));
    assertFalse(ParaphraseAugmenter.mentions("nothing here", "Alien"));
  }
}
