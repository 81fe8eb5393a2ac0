package io.marginal.trainer.unlearning;

import io.marginal.model.LanguageModel;
import io.marginal.model.demo.DemoModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The demo model, loaded once per test class (built on first use) and closed after it. */
abstract class DemoModelTestBase {

  protected static LanguageModel model;

  @BeforeAll
  static void loadDemoModel() {
    model = LanguageModel.load(DemoModel.ensureBuilt());
  }

  @AfterAll
  static void closeDemoModel() {
    model.close();
  }
}
