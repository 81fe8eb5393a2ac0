package io.marginal.inference.adapters;

/**
 * Which adapters a request asks for, from its {@code model} field: {@code <base>} = every shared
 * adapter plus the caller's own; {@code <base>:none} = the bare base model; {@code <base>:<adapterId>}
 * = that one adapter only (a shared one, or the caller's own).
 */
public record AdapterSelection(Kind kind, String adapterId) {
  public enum Kind { ALL, NONE, ONLY }

  public static final AdapterSelection ALL = new AdapterSelection(Kind.ALL, null);
  public static final AdapterSelection NONE = new AdapterSelection(Kind.NONE, null);

  public static AdapterSelection only(String adapterId) {
    return new AdapterSelection(Kind.ONLY, adapterId);
  }
}
