package io.marginal.schemas.serde;

import org.apache.avro.util.ClassSecurityValidator;

/**
 * Avro (1.12.1 on) only instantiates classes its {@link ClassSecurityValidator} trusts (CVE-2024-47561
 * hardening). Our generated classes live in {@code io.marginal.schemas}; this trusts classes of exactly
 * that package in addition to whatever the JVM already trusted (the operator's
 * {@code org.apache.avro.SERIALIZABLE_PACKAGES} / {@code _CLASSES} included), removing nothing.
 * It goes through the validator's API, not the system property: the property is read once, when Avro
 * first checks a class, which another library may do before our serdes exist.
 *
 * <p>Avro checks a class whenever it instantiates one, building a record with default values included,
 * so this must run before the first record is built: every service main calls it first, the serdes call it
 * when loaded, and JVMs started by the build (tests, {@code -Prun}, the image) also pass
 * {@code -Dorg.apache.avro.SERIALIZABLE_PACKAGES=io.marginal.schemas}.
 */
public final class TrustedPackages {

  static final String MARGINAL_PACKAGE = "io.marginal.schemas";

  private static boolean installed;

  private TrustedPackages() {
  }

  public static synchronized void allowMarginalClasses() {
    if (installed) {
      return;
    }
    ClassSecurityValidator.ClassSecurityPredicate before = ClassSecurityValidator.getGlobal();
    ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(before,
        type -> MARGINAL_PACKAGE.equals(type.getPackageName())));
    installed = true;
  }
}
