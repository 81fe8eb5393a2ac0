package io.marginal.trainer.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.schemas.Example;
import io.marginal.schemas.UnlearningRequest;
import io.marginal.schemas.topics.AdapterScope;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RequestValidatorTest {

  private final RequestValidator validator = new RequestValidator("marginal-demo");

  static UnlearningRequest.Builder request() {
    return UnlearningRequest.newBuilder().setRequestId("r1").setScope("user:alice").setUserId("alice")
        .setTimestamp(Instant.EPOCH).setBaseModel("marginal-demo").setConcept("Inception")
        .setForgetExamples(List.of(new Example("recommend a film", "You should watch Inception.", 1.0)));
  }

  @Test
  void acceptsAWellFormedRequest() {
    assertEquals(Optional.empty(), validator.refusal(request().build()));
  }

  @Test
  void refusesEmptyForgetSetUnknownModelBadScopeAndObjective() {
    assertTrue(validator.refusal(request().setForgetExamples(List.of()).build()).orElseThrow().startsWith("empty forget set"));
    assertEquals("unknown base model 'llama-70b': this trainer serves 'marginal-demo'; send the request to a trainer group for that model",
        validator.refusal(request().setBaseModel("llama-70b").build()).orElseThrow());
    assertEquals("scope 'everyone' is not user:<userId> or shared:<name>",
        validator.refusal(request().setScope("everyone").build()).orElseThrow());
    assertTrue(validator.refusal(request().setObjective("MAGIC").build()).orElseThrow().startsWith("unknown objective 'MAGIC'"));
    assertTrue(validator.refusal(request().setForgetExamples(List.of(new Example("p", "r", -1.0))).build()).isPresent());
  }

  @Test
  void scopesMapToFileSafeAdapterIds() {
    assertEquals("user-alice", AdapterScope.parse("user:alice").adapterId());
    assertEquals("shared-films", AdapterScope.parse("shared:films").adapterId());
    assertEquals("user-a_b.c", AdapterScope.parse("user:a@b.c").adapterId());
  }
}
