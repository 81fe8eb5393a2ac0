package io.marginal.streams.deletion;

import io.marginal.schemas.DeletionReceipt;
import io.marginal.schemas.DeletionRequest;
import io.marginal.schemas.ErasedItem;
import io.marginal.schemas.ReceiptStatus;
import java.time.Instant;
import java.util.List;

/**
 * Receipts name ids and counts, never user text. {@code physicallyErasedBy} = hiddenAt + the erasure
 * bound of every topic (and changelog, which gets the same settings) that held the data: the time by
 * which the segments holding the old values have rolled and been compacted or expired.
 */
public final class DeletionReceipts {

  private DeletionReceipts() {
  }

  public static DeletionReceipt receipt(DeletionRequest request, ReceiptStatus status, List<ErasedItem> erased,
                                        Instant hiddenAt, long erasureBoundMs, String unlearningRequestId, String detail) {
    return DeletionReceipt.newBuilder()
        .setDeletionId(request.getDeletionId())
        .setUserId(request.getUserId())
        .setScope(request.getScope())
        .setStatus(status)
        .setErased(List.copyOf(erased))
        .setHiddenAt(hiddenAt)
        .setPhysicallyErasedBy(hiddenAt.plusMillis(erasureBoundMs))
        .setUnlearningRequestId(unlearningRequestId)
        .setCoveringAdapter(null)
        .setDetail(detail)
        .setTimestamp(hiddenAt)
        .build();
  }
}
