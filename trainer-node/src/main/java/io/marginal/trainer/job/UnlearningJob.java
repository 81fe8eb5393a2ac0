package io.marginal.trainer.job;

import io.marginal.schemas.UnlearningRequest;
import io.marginal.trainer.store.StoredAdapter;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Turns one validated unlearning request into an adapter directory (PEFT layout + manifest) and
 * its evaluation. The node decides what to do with the outcome (store and publish, or refuse).
 */
public interface UnlearningJob {

  /**
   * @param previous the scope's current adapter version, if any: the new version must keep
   *                 what it forgot (continual requests)
   * @param workDir  an empty directory the job may write the new adapter into
   */
  UnlearningOutcome run(UnlearningRequest request, Optional<StoredAdapter> previous, Path workDir, ProgressListener progress);
}
