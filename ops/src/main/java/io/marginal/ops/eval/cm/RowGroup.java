package io.marginal.ops.eval.cm;

/** How an eval row relates to a simulated user's preference; accuracy is reported per group. */
public enum RowGroup {
  /** Every eval row. */
  OVERALL("overall"),
  /** The user's label differs from the gold label (a remapped intent, near the anchor where there is one). */
  CHANGED("changed rows"),
  /** The intent is one the user remaps, but this instance keeps its gold label (protocol d: far from the anchor). */
  KEPT("kept rows of remapped intents"),
  /** Intents the user does not remap: the no-harm check. */
  UNAFFECTED("unaffected intents");

  private final String title;

  RowGroup(String title) {
    this.title = title;
  }

  public String title() {
    return title;
  }
}
