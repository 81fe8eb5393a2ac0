package io.marginal.schemas.receipts;

import io.marginal.schemas.DeletionReceipt;
import io.marginal.schemas.DeletionRequest;
import io.marginal.schemas.DeletionScope;
import io.marginal.schemas.ErasedItem;
import io.marginal.schemas.ReceiptStatus;
import io.marginal.schemas.UnlearningRequest;
import java.time.Instant;
import java.util.List;

/**
 * The one place deletion receipts are built: by the streams app when a deletion is processed and by
 * the trainer when its unlearning request ends. Receipts name ids and counts, never user text.
 * {@code physicallyErasedBy} = hiddenAt + the erasure bound of every topic (and changelog, which
 * gets the same settings) that held the data: the time by which the segments holding the old values
 * have rolled and been compacted or expired.
 */
public final class DeletionReceipts {

  private DeletionReceipts() {
  }

  /** A receipt for {@code request} as the streams app processes it. */
  public static DeletionReceipt receipt(DeletionRequest request, ReceiptStatus status, List<ErasedItem> erased,
                                        Instant hiddenAt, long erasureBoundMs, String unlearningRequestId, String detail) {
    return build(request.getDeletionId(), request.getUserId(), request.getScope(), status, erased, hiddenAt, erasureBoundMs,
        unlearningRequestId, null, detail, hiddenAt);
  }

  /**
   * The final receipt of the deletion behind {@code request} (UNLEARNED or REJECTED by the trainer):
   * it keeps the deletion's own scope and {@code hiddenAt}, so it replaces the earlier receipt of the
   * same deletion without changing what was deleted or when. Requests written before those fields
   * existed fall back to CONCEPT when a concept is named, else PREFERENCE, and to {@code now}.
   */
  public static DeletionReceipt unlearningEnded(UnlearningRequest request, ReceiptStatus status, String coveringAdapter,
                                                String detail, long erasureBoundMs, Instant now) {
    DeletionScope scope = request.getDeletionScope() != null ? request.getDeletionScope()
        : request.getConcept() != null ? DeletionScope.CONCEPT : DeletionScope.PREFERENCE;
    Instant hiddenAt = request.getHiddenAt() != null ? request.getHiddenAt() : now;
    return build(request.getSourceDeletionId(), request.getUserId(), scope, status, List.of(), hiddenAt, erasureBoundMs,
        request.getRequestId(), coveringAdapter, detail, now);
  }

  private static DeletionReceipt build(String deletionId, String userId, DeletionScope scope, ReceiptStatus status,
                                       List<ErasedItem> erased, Instant hiddenAt, long erasureBoundMs, String unlearningRequestId,
                                       String coveringAdapter, String detail, Instant timestamp) {
    return DeletionReceipt.newBuilder()
        .setDeletionId(deletionId)
        .setUserId(userId)
        .setScope(scope)
        .setStatus(status)
        .setErased(List.copyOf(erased))
        .setHiddenAt(hiddenAt)
        .setPhysicallyErasedBy(hiddenAt.plusMillis(erasureBoundMs))
        .setUnlearningRequestId(unlearningRequestId)
        .setCoveringAdapter(coveringAdapter)
        .setDetail(detail)
        .setTimestamp(timestamp)
        .build();
  }
}
