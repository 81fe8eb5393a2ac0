package io.marginal.trainer.unlearning;

import io.marginal.model.LanguageModel;
import io.marginal.model.scoring.Continuation;
import io.marginal.model.tokenizer.ChatMessage;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * One thing to forget: a prompt, the answer that shows the concept, and the scored sequence.
 *
 * <p>When the answer names the concept, the scored part is only the concept's tokens, after the
 * answer's own prefix ("You should watch" → "Inception"): lowering the probability of "You should
 * watch" would also break every other recommendation, which the retain set then has to repair.
 * Without a concept the whole answer is the target.
 *
 * @param sequence    chat prompt (+ answer prefix) → concept tokens (or the whole answer)
 * @param alternative chat prompt → the alternative answer (REFUSAL objective)
 * @param weight      the request's weight for it (U2A weights multiply it)
 * @param constraint  true for targets of earlier requests, kept forgotten by this version
 */
public record ForgetTarget(String prompt, String answer, String concept, Continuation sequence, Continuation alternative,
                           double weight, boolean constraint) {

  /** The target for {@code answer} to {@code prompt}; empty when a concept is given and the answer does not name it. */
  public static Optional<ForgetTarget> of(LanguageModel model, String prompt, String answer, String concept, double weight,
                                          String alternativeAnswer, boolean constraint) {
    List<ChatMessage> messages = List.of(ChatMessage.user(prompt));
    int[] chat = model.encodeChat(messages);
    Continuation alternative = model.chatContinuation(messages, alternativeAnswer);
    if (concept == null || concept.isBlank()) {
      return Optional.of(new ForgetTarget(prompt, answer, null, model.chatContinuation(messages, answer), alternative, weight,
          constraint));
    }
    int at = answer.toLowerCase(Locale.ROOT).indexOf(concept.toLowerCase(Locale.ROOT));
    if (at < 0 || !ParaphraseAugmenter.mentions(answer, concept)) {
      return Optional.empty();
    }
    String prefix = answer.substring(0, at).stripTrailing();
    int[] prefixIds = model.tokenizer().encode(prefix);
    int[] throughConcept = model.tokenizer().encode(answer.substring(0, at + concept.length()));
    int[] conceptIds = startsWith(throughConcept, prefixIds)
        ? Arrays.copyOfRange(throughConcept, prefixIds.length, throughConcept.length)
        : model.tokenizer().encode(answer.substring(at, at + concept.length()));
    if (conceptIds.length == 0) {
      return Optional.empty();
    }
    int[] promptIds = Arrays.copyOf(chat, chat.length + prefixIds.length);
    System.arraycopy(prefixIds, 0, promptIds, chat.length, prefixIds.length);
    return Optional.of(new ForgetTarget(prompt, answer, concept, new Continuation(promptIds, conceptIds), alternative, weight,
        constraint));
  }

  private static boolean startsWith(int[] ids, int[] prefix) {
    if (prefix.length > ids.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (ids[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  public int length() {
    return sequence.continuation().length;
  }
}
