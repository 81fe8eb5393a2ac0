package io.marginal.schemas.serde;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.marginal.schemas.Feedback;
import io.marginal.schemas.FeedbackKind;
import org.apache.avro.util.ClassSecurityValidator;
import org.junit.jupiter.api.Test;

class TrustedPackagesTest {

  @Test
  void ourGeneratedClassesAreTrustedAndNothingBeyondTheirPackage() {
    TrustedPackages.allowMarginalClasses();
    TrustedPackages.allowMarginalClasses(); // idempotent

    assertDoesNotThrow(() -> ClassSecurityValidator.validate(Feedback.class));
    assertDoesNotThrow(() -> ClassSecurityValidator.validate(FeedbackKind.class));
    assertThrows(SecurityException.class, () -> ClassSecurityValidator.validate(TrustedPackages.class),
        "a sub-package is not trusted by ours");
    assertThrows(SecurityException.class, () -> ClassSecurityValidator.validate(java.lang.ProcessBuilder.class));
  }
}
