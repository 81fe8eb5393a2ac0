package io.marginal.streams.app;

import java.util.Map;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.Cache;
import org.rocksdb.Options;

/**
 * Bounds how long a deleted value survives inside RocksDB. A delete only writes a tombstone; the
 * old value stays in SST files until a compaction rewrites them, which on a quiet store may never
 * happen. Periodic compaction rewrites every file older than {@link #PERIODIC_COMPACTION_CONFIG}
 * seconds, so the bytes of erased user data are gone from local state within that bound (plus the
 * time a compaction takes), like the topics' segment roll + compaction lag.
 */
public final class ErasingRocksDbConfig implements RocksDBConfigSetter {

  public static final String PERIODIC_COMPACTION_CONFIG = "marginal.rocksdb.periodic.compaction.seconds";
  static final long DEFAULT_SECONDS = 3600;

  @Override
  public void setConfig(String storeName, Options options, Map<String, Object> configs) {
    Object value = configs.get(PERIODIC_COMPACTION_CONFIG);
    long seconds = value == null ? DEFAULT_SECONDS : Long.parseLong(value.toString());
    options.setPeriodicCompactionSeconds(seconds);
  }

  @Override
  public void close(String storeName, Options options) {
    // nothing allocated here
  }

  /** Unused: present to document that no shared block cache is allocated by this setter. */
  static Cache sharedCache() {
    return null;
  }
}
