package io.marginal.trainer.unlearning;

import io.marginal.model.LanguageModel;
import io.marginal.model.demo.DemoCorpus;
import io.marginal.model.scoring.Continuation;
import io.marginal.model.tokenizer.ChatMessage;
import io.marginal.schemas.Example;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What must keep working: general prompts of the demo domains (chit-chat, banking and travel
 * intents, recommendations of other films) answered as the base model answers them, plus the
 * request's own retain examples. The bundled prompts are split in two — alternate phrasings of
 * each intent — so that retain accuracy is measured on prompts the retain loss never saw.
 * Prompts whose base answer names a concept being forgotten are left out of both halves.
 */
public final class RetainSet {

  /** A retain example: the prompt, the answer to keep, and its scored sequence (the whole answer). */
  public record RetainExample(String prompt, String answer, Continuation sequence, double weight) {
    public int length() {
      return sequence.continuation().length;
    }
  }

  private final List<RetainExample> training;
  private final List<String> evaluationPrompts;

  private RetainSet(List<RetainExample> training, List<String> evaluationPrompts) {
    this.training = List.copyOf(training);
    this.evaluationPrompts = List.copyOf(evaluationPrompts);
  }

  /** Bundled prompts used for training (even phrasings of every intent). */
  public static List<String> bundledTrainingPrompts() {
    return bundled(0);
  }

  /** Bundled prompts used for evaluation only (odd phrasings of every intent). */
  public static List<String> bundledEvaluationPrompts() {
    return bundled(1);
  }

  /** The corpus answers of every bundled prompt (an intent may have several). */
  public static java.util.Map<String, List<String>> expectedAnswers() {
    java.util.Map<String, List<String>> out = new java.util.HashMap<>();
    for (DemoCorpus.Block block : DemoCorpus.blocks()) {
      block.userPhrasings().forEach(p -> out.put(p, block.answers()));
    }
    return out;
  }

  private static List<String> bundled(int parity) {
    List<String> out = new ArrayList<>();
    for (DemoCorpus.Block block : DemoCorpus.blocks()) {
      List<String> phrasings = block.userPhrasings();
      for (int i = 0; i < phrasings.size(); i++) {
        if (i % 2 == parity) {
          out.add(phrasings.get(i));
        }
      }
    }
    return out;
  }

  /**
   * @param concepts  every concept this adapter version forgets (its own and earlier requests')
   * @param requested retain examples carried by requests (a user's surviving preferences)
   */
  public static RetainSet build(ChatAnswers answers, Collection<String> concepts, Collection<Example> requested) {
    LanguageModel model = answers.model();
    List<RetainExample> training = new ArrayList<>();
    List<String> all = new ArrayList<>(bundledTrainingPrompts());
    all.addAll(bundledEvaluationPrompts());
    answers.answers(all, io.marginal.model.lora.ActiveAdapters.NONE); // base answers decoded as batches, then cached
    for (String prompt : bundledTrainingPrompts()) {
      String answer = answers.base(prompt);
      if (!mentionsAny(answer, concepts) && !answer.isBlank()) {
        training.add(example(model, prompt, answer, 1.0));
      }
    }
    Set<String> seen = new LinkedHashSet<>();
    for (Example e : requested) {
      if (seen.add(e.getPrompt() + "\u0000" + e.getResponse()) && !mentionsAny(e.getResponse(), concepts)) {
        training.add(example(model, e.getPrompt(), e.getResponse(), e.getWeight()));
      }
    }
    List<String> evaluation = bundledEvaluationPrompts().stream()
        .filter(p -> !mentionsAny(answers.base(p), concepts)).toList();
    return new RetainSet(training, evaluation);
  }

  static RetainExample example(LanguageModel model, String prompt, String answer, double weight) {
    return new RetainExample(prompt, answer, model.chatContinuation(List.of(ChatMessage.user(prompt)), answer), weight);
  }

  static boolean mentionsAny(String text, Collection<String> concepts) {
    return concepts.stream().anyMatch(c -> ParaphraseAugmenter.mentions(text, c));
  }

  public List<RetainExample> training() {
    return training;
  }

  public List<String> evaluationPrompts() {
    return evaluationPrompts;
  }
}
