package io.marginal.trainer.unlearning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.model.demo.DemoCorpus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Training and evaluation probe families are disjoint by more than one word, for every demo concept. */
class ProbeFamiliesTest {

  private final ParaphraseAugmenter augmenter = new ParaphraseAugmenter();

  @Test
  void everyEvaluationProbeIsAtLeastTwoWordsFromEveryTrainingPrompt() {
    // requests as the demo sends them: every corpus phrasing of a film intent, and the experiment's scripted prompts
    List<String> requests = new ArrayList<>();
    DemoCorpus.blocks().stream().filter(b -> b.answers().stream().anyMatch(a -> a.contains("watch") || a.contains("movie")))
        .forEach(b -> requests.addAll(b.userPhrasings()));
    requests.addAll(List.of("what is a good hacker movie", "what is a good space horror movie", "which film do you like best"));
    for (ConceptCard card : ConceptCatalog.all()) {
      for (String requestPrompt : requests) {
        List<String> request = List.of(requestPrompt);
        List<String> training = augmenter.trainingPrompts(card.title(), request);
        EvaluationProbes.families(card, request).values().stream().flatMap(List::stream).forEach(probe -> {
          for (String t : training) {
            assertTrue(WordDistance.between(probe, t) >= 2,
                card.title() + ": '" + probe + "' is within one word of training prompt '" + t + "' (request '" + requestPrompt + "')");
          }
        });
      }
    }
  }

  @Test
  void noTrainingTemplateIsLostToTheEvaluationFamilies() {
    for (ConceptCard card : ConceptCatalog.all()) {
      List<String> training = augmenter.trainingPrompts(card.title(), List.of("recommend me a sci-fi film"));
      for (String t : ParaphraseAugmenter.TRAINING_TEMPLATES) {
        assertTrue(training.contains(ParaphraseAugmenter.fill(t, card.title())), card.title() + ": training template dropped: " + t);
      }
    }
  }

  @Test
  void aRequestThatNamesAnEvaluationProbeTrainsOnItAndTheProbeLeavesTheEvaluation() {
    ConceptCard inception = ConceptCatalog.lookup("Inception");
    List<String> request = List.of("which sci-fi film is the best");
    assertTrue(augmenter.trainingPrompts("Inception", request).contains("which sci-fi film is the best"));
    assertFalse(EvaluationProbes.families(inception, request).get(EvaluationProbes.REWORDED).contains("which sci-fi film is the best"));
    assertTrue(EvaluationProbes.families(inception).get(EvaluationProbes.REWORDED).contains("which sci-fi film is the best"));
  }

  @Test
  void everyConceptHasFourEvaluationFamiliesAndIndirectProbesDoNotNameIt() {
    for (ConceptCard card : ConceptCatalog.all()) {
      Map<String, List<String>> families = EvaluationProbes.families(card);
      assertEquals(EvaluationProbes.FAMILIES, List.copyOf(families.keySet()));
      families.values().forEach(f -> assertFalse(f.isEmpty(), card.title()));
      LeakDetector d = new LeakDetector(card);
      for (String p : families.get(EvaluationProbes.INDIRECT)) {
        assertFalse(d.names(p), card.title() + ": indirect probe names the concept: " + p);
      }
    }
  }

  @Test
  void typosMisspellTheTitleDeterministically() {
    assertEquals("Icneption", EvaluationProbes.typo("Inception"));
    assertTrue(EvaluationProbes.families(ConceptCatalog.lookup("Inception")).get(EvaluationProbes.TYPOS).contains("is Icneption a good flim"));
  }

  @Test
  void theRetainEvaluationSetIsLargeDisjointFromTrainingAndHoldsOutWholeIntents() {
    List<String> training = RetainSet.bundledTrainingPrompts();
    List<String> evaluation = RetainSet.bundledEvaluationPrompts();
    assertTrue(evaluation.size() >= 200, "one prompt must be under one point: " + evaluation.size());
    assertTrue(evaluation.stream().noneMatch(training::contains));
    assertTrue(training.stream().noneMatch(RetainSet::ofHeldOutIntent), "held-out intents are never trained on");
    assertTrue(evaluation.stream().filter(RetainSet::ofHeldOutIntent).count() >= 100);
  }

}
