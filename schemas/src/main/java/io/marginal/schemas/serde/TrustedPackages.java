package io.marginal.schemas.serde;

/**
 * Avro 1.12 only instantiates generated classes from allow-listed packages (CVE-2024-47561
 * hardening). Our generated classes live in {@code io.marginal.schemas}; this adds that package to
 * whatever the operator configured, without removing anything they listed.
 */
final class TrustedPackages {

  static final String PROPERTY = "org.apache.avro.SERIALIZABLE_PACKAGES";
  static final String MARGINAL_PACKAGE = "io.marginal.schemas";

  private TrustedPackages() {
  }

  static synchronized void allowMarginalClasses() {
    String current = System.getProperty(PROPERTY);
    if (current == null || current.isBlank()) {
      System.setProperty(PROPERTY, MARGINAL_PACKAGE);
    } else if (!current.contains(MARGINAL_PACKAGE)) {
      System.setProperty(PROPERTY, current + "," + MARGINAL_PACKAGE);
    }
  }
}
