package io.marginal.trainer.node;

import io.marginal.schemas.Example;
import io.marginal.schemas.UnlearningRequest;
import io.marginal.schemas.topics.AdapterScope;
import java.util.Optional;
import java.util.Set;

/** Refuses requests that cannot be carried out, with a reason a person can act on. */
final class RequestValidator {

  static final Set<String> OBJECTIVES = Set.of("GRAD_DIFF", "NPO", "REFUSAL");

  private final String baseModel;

  RequestValidator(String baseModel) {
    this.baseModel = baseModel;
  }

  /** Empty when the request can be trained; otherwise why not. */
  Optional<String> refusal(UnlearningRequest request) {
    try {
      AdapterScope.parse(request.getScope());
    } catch (IllegalArgumentException e) {
      return Optional.of(e.getMessage());
    }
    if (!baseModel.equals(request.getBaseModel())) {
      return Optional.of("unknown base model '" + request.getBaseModel() + "': this trainer serves '" + baseModel
          + "'; send the request to a trainer group for that model");
    }
    if (request.getForgetExamples().isEmpty()) {
      return Optional.of("empty forget set: nothing to unlearn; name at least one prompt/response to forget");
    }
    for (Example e : request.getForgetExamples()) {
      if (e.getPrompt().isBlank() || e.getResponse().isBlank()) {
        return Optional.of("forget example with a blank prompt or response: every example needs both");
      }
      if (!(e.getWeight() > 0) || Double.isInfinite(e.getWeight())) {
        return Optional.of("forget example weight must be a positive finite number, got " + e.getWeight());
      }
    }
    if (request.getObjective() != null && !OBJECTIVES.contains(request.getObjective())) {
      return Optional.of("unknown objective '" + request.getObjective() + "'; use one of " + OBJECTIVES);
    }
    return Optional.empty();
  }
}
