package io.marginal.streams.deletion;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.DeletionRequest;
import io.marginal.schemas.DeletionScope;
import io.marginal.schemas.Example;
import io.marginal.schemas.Interaction;
import io.marginal.schemas.UnlearningRequest;
import io.marginal.schemas.topics.AdapterScope;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Builds the unlearning request of a CONCEPT or PREFERENCE deletion, keyed by scope {@code user:<id>}.
 *
 * <ul>
 *   <li>forget: for CONCEPT, every (prompt, response) of a removed entry or removed interaction whose
 *       response mentions the concept (the behaviour to train away); for PREFERENCE, (prompt, preferred
 *       response) of every removed entry and (prompt, response) of removed interactions that served it.
 *       Weight = |entry weight| (1 for interactions). Duplicates are dropped.</li>
 *   <li>retain: (prompt, preferred response) of the user's surviving entries with positive weight, newest
 *       first, at most {@code maxRetain} — what must keep working.</li>
 *   <li>lineage: ids of published adapters trained on any deleted event, then the deleted event ids
 *       (interaction and feedback ids) themselves.</li>
 * </ul>
 *
 * <p>The request id is derived from the deletion id, so reprocessing after a failure yields the same id.
 */
public final class UnlearningRequests {

  private UnlearningRequests() {
  }

  public static String requestId(DeletionRequest deletion) {
    return "unlearn-" + deletion.getDeletionId();
  }

  public static UnlearningRequest build(DeletionRequest deletion, DeletionMatcher matcher, List<BankEntry> removed,
                                        List<Interaction> removedInteractions, List<BankEntry> surviving,
                                        Collection<String> adapterIds, Collection<String> eventIds,
                                        String baseModel, int maxRetain, Instant at) {
    Set<Example> forget = new LinkedHashSet<>();
    boolean concept = deletion.getScope() == DeletionScope.CONCEPT;
    for (BankEntry e : removed) {
      double w = Math.abs(e.getWeight());
      if (concept) {
        if (matcher.mentions(e.getModelResponse())) {
          forget.add(new Example(e.getPrompt(), e.getModelResponse(), w));
        }
        if (matcher.mentions(e.getPreferredResponse()) && !e.getPreferredResponse().equals(e.getModelResponse())) {
          forget.add(new Example(e.getPrompt(), e.getPreferredResponse(), w));
        }
      } else {
        forget.add(new Example(e.getPrompt(), e.getPreferredResponse(), w));
      }
    }
    for (Interaction i : removedInteractions) {
      if (!concept || matcher.mentions(i.getResponse())) {
        forget.add(new Example(i.getPrompt(), i.getResponse(), 1.0));
      }
    }
    List<Example> retain = new ArrayList<>();
    for (int j = surviving.size() - 1; j >= 0 && retain.size() < maxRetain; j--) {
      BankEntry e = surviving.get(j);
      if (e.getWeight() > 0) {
        retain.add(new Example(e.getPrompt(), e.getPreferredResponse(), e.getWeight()));
      }
    }
    List<String> lineage = new ArrayList<>(adapterIds);
    lineage.addAll(new LinkedHashSet<>(eventIds));
    return UnlearningRequest.newBuilder()
        .setRequestId(requestId(deletion))
        .setScope(scopeOf(deletion.getUserId()))
        .setUserId(deletion.getUserId())
        .setTimestamp(at)
        .setBaseModel(baseModel)
        .setConcept(deletion.getConcept())
        .setForgetExamples(new ArrayList<>(forget))
        .setRetainExamples(retain)
        .setObjective(null)
        .setLineage(lineage)
        .setSourceDeletionId(deletion.getDeletionId())
        .setDeletionScope(deletion.getScope())
        .setHiddenAt(at)
        .build();
  }

  public static String scopeOf(String userId) {
    return AdapterScope.ofUser(userId);
  }
}
