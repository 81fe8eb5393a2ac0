package io.marginal.schemas.serde;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.marginal.schemas.Feedback;
import io.marginal.schemas.FeedbackKind;
import org.apache.avro.util.ClassSecurityValidator;
import org.junit.jupiter.api.Test;

class TrustedPackagesTest {

  @Test
  void ourGeneratedClassesAreTrustedAndNothingElseOfOurs() {
    TrustedPackages.allowMarginalClasses();
    TrustedPackages.allowMarginalClasses(); // idempotent

    assertDoesNotThrow(() -> ClassSecurityValidator.validate(Feedback.class));
    assertDoesNotThrow(() -> ClassSecurityValidator.validate(FeedbackKind.class));
    assertThrows(SecurityException.class, () -> ClassSecurityValidator.validate(io.marginal.client.MarginalClient.class),
        "our other packages are not trusted");
    assertThrows(SecurityException.class, () -> ClassSecurityValidator.validate(java.lang.ProcessBuilder.class));
  }
}
