package io.marginal.model.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.model.LanguageModel;
import io.marginal.model.generate.FinishReason;
import io.marginal.model.generate.GenerationRequest;
import io.marginal.model.generate.GenerationResult;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.tokenizer.ChatMessage;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The cached demo model (built on first use, ~2 minutes) answers its corpus prompts sensibly. */
class DemoModelIT {
  @Test
  void demoModelAnswersCorpusPrompts() {
    try (LanguageModel model = DemoModel.load()) {
      for (String[] probe : DemoCorpus.probes()) {
        GenerationResult r = model.chat(List.of(ChatMessage.user(probe[0])), GenerationRequest.greedy(48), ActiveAdapters.NONE, null);
        assertTrue(r.text().contains(probe[1]), probe[0] + " -> " + r.text());
        assertEquals(FinishReason.STOP_TOKEN, r.finishReason(), probe[0] + " -> " + r.text());
      }
      // Paraphrase not in the corpus verbatim still gets a film title.
      String answer = model.chat(List.of(ChatMessage.user("could you recommend a sci-fi film")), GenerationRequest.greedy(48),
          ActiveAdapters.NONE, null).text();
      assertTrue(answer.contains("Inception") || answer.contains("Interstellar") || answer.contains("Matrix"), answer);
      // Embeddings: same-intent prompts are closer than different-intent ones.
      float[] a = model.embed("how do I reset my pin");
      float[] b = model.embed("I forgot my pin");
      float[] c = model.embed("recommend a movie about space");
      assertTrue(dot(a, b) > dot(a, c), "pin/pin " + dot(a, b) + " vs pin/space " + dot(a, c));
      // Scoring prefers the trained answer.
      double good = model.logProbs(List.of(model.chatContinuation(List.of(ChatMessage.user("recommend me a sci-fi film")),
          "You should watch Inception. It is a brilliant sci-fi film about dreams.")), ActiveAdapters.NONE)[0];
      double bad = model.logProbs(List.of(model.chatContinuation(List.of(ChatMessage.user("recommend me a sci-fi film")),
          "Goodbye! Have a great day.")), ActiveAdapters.NONE)[0];
      assertTrue(good > bad + 5, good + " vs " + bad);
    }
  }

  static double dot(float[] x, float[] y) {
    double s = 0;
    for (int i = 0; i < x.length; i++) {
      s += x[i] * y[i];
    }
    return s;
  }
}
