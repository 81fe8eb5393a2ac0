package io.marginal.ops.eval.cm;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.Candidate;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.FeedbackKind;
import io.marginal.schemas.Interaction;
import io.marginal.schemas.MemoryBank;
import io.marginal.personalization.bank.DiscrepancyEntries;
import io.marginal.personalization.bank.MemoryBankUpdater;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A simulated user's feedback events turned into a memory bank through the topology's own entry and update code:
 * the model serves its argmax r; THUMBS_UP when r is the user's label, else PREFERRED_RESPONSE with the user's label.
 */
final class SimulatedFeedback {

  private SimulatedFeedback() {
  }

  static MemoryBank bank(SimulatedUser user, EncodedDataset data, int bankCap) {
    if (user.feedback().size() > bankCap) {
      throw new IllegalArgumentException(user.id() + " gives " + user.feedback().size() + " feedback events but the bank cap is "
          + bankCap + "; the oldest would be evicted. Raise the cap (--bank-cap) to at least the feedback count");
    }
    MemoryBank bank = MemoryBankUpdater.empty(user.id(), Instant.EPOCH);
    int n = 0;
    for (int index : user.feedback()) {
      EncodedDataset.Instance row = data.train(index);
      String served = CmEvaluation.argmax(row.distribution());
      String wanted = user.preferred(row.label(), row.embedding());
      List<Float> emb = new ArrayList<>(row.embedding().length);
      for (float f : row.embedding()) {
        emb.add(f);
      }
      Instant at = Instant.ofEpochMilli(n++);
      Interaction interaction = Interaction.newBuilder().setInteractionId(user.id() + "-i" + n).setUserId(user.id()).setTimestamp(at)
          .setModel("tfidf-centroid").setPrompt(row.row().text()).setResponse(served)
          .setCandidates(row.distribution().entrySet().stream().map(e -> new Candidate(e.getKey(), e.getValue())).toList())
          .setInstanceEmbedding(emb).build();
      Feedback feedback = Feedback.newBuilder().setFeedbackId(user.id() + "-f" + n).setUserId(user.id())
          .setInteractionId(interaction.getInteractionId()).setTimestamp(at)
          .setKind(served.equals(wanted) ? FeedbackKind.THUMBS_UP : FeedbackKind.PREFERRED_RESPONSE)
          .setPreferredResponse(served.equals(wanted) ? null : wanted).build();
      Optional<BankEntry> entry = DiscrepancyEntries.fromFeedback(interaction, feedback);
      if (entry.isPresent()) {
        bank = MemoryBankUpdater.apply(bank, entry.get(), bankCap, at);
      }
    }
    return bank;
  }
}
