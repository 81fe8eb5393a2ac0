package io.marginal.streams.store;

import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.TimestampedBytesStore;
import org.apache.kafka.streams.state.internals.WrappedStateStore;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.CompactRangeOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;



/**
 * RocksDB stores whose deleted values can be made physically gone on demand.
 *
 * <p>Why: a RocksDB delete writes a tombstone; the old value stays in SST files until a compaction
 * rewrites them. Periodic compaction ({@code periodic_compaction_seconds}) only fires when a flush or
 * compaction makes RocksDB re-evaluate (the RocksDB bundled with Kafka 4.1–4.4 has no timer for it), so on
 * a quiet store a deleted value can stay on disk indefinitely. {@link ErasableStore#erase} flushes the
 * memtable and compacts the key range of the users with deletions ({@code user U+0000} …), down to the
 * bottom level, so the old values and the tombstones are both dropped. Kafka Streams does not expose the RocksDB
 * handle, so it is read from {@code RocksDBStore}'s field by reflection; when that fails (another Kafka
 * version), {@link ErasableStore#erase} says so and the erasure IT fails.
 *
 * <p>Called on the stream thread that owns the task (never concurrently with the store's close).
 */
public final class ErasableStores {


  private ErasableStores() {
  }

  public static KeyValueBytesStoreSupplier persistentKeyValueStore(String name) {
    return supplier(Stores.persistentKeyValueStore(name), false);
  }

  public static KeyValueBytesStoreSupplier persistentTimestampedKeyValueStore(String name) {
    return supplier(Stores.persistentTimestampedKeyValueStore(name), true);
  }

  private static KeyValueBytesStoreSupplier supplier(KeyValueBytesStoreSupplier inner, boolean timestamped) {
    return new KeyValueBytesStoreSupplier() {
      @Override
      public String name() {
        return inner.name();
      }

      @Override
      public KeyValueStore<Bytes, byte[]> get() {
        return timestamped ? new TimestampedErasableStore(inner.get()) : new ErasableStore(inner.get());
      }

      @Override
      public String metricsScope() {
        return inner.metricsScope();
      }
    };
  }

  /** The erasable store under a store handed out by the processor context, or null if it is not one. */
  public static ErasableStore find(StateStore store) {
    StateStore s = store;
    while (s != null) {
      if (s instanceof ErasableStore e) {
        return e;
      }
      s = s instanceof WrappedStateStore<?, ?, ?> w ? w.wrapped() : null;
    }
    return null;
  }

  /** A pass-through to Kafka Streams' RocksDB store that can compact one user's key range. */
  public static class ErasableStore extends WrappedStateStore<KeyValueStore<Bytes, byte[]>, Bytes, byte[]>
      implements KeyValueStore<Bytes, byte[]> {

    ErasableStore(KeyValueStore<Bytes, byte[]> inner) {
      super(inner);
    }

    /**
     * Flushes, then compacts through the bottom level one key range that covers every key starting with
     * {@code user U+0000} for each of {@code users}: afterwards no SST file holds a value deleted under those
     * prefixes before the call. One flush and one compaction for the whole batch: the users' keys usually sit
     * in the same files, which a compaction per user would rewrite again and again.
     */
    public void erase(java.util.Collection<String> users) {
      if (users.isEmpty()) {
        return;
      }
      RocksDB db = (RocksDB) field(wrapped(), "db");
      List<ColumnFamilyHandle> families = columnFamilies(field(wrapped(), "cfAccessor"));
      String first = java.util.Collections.min(users);
      String last = java.util.Collections.max(users);
      byte[] from = (first + '\u0000').getBytes(StandardCharsets.UTF_8);
      byte[] to = (last + '\u0001').getBytes(StandardCharsets.UTF_8);
      try (CompactRangeOptions options = new CompactRangeOptions()
          .setBottommostLevelCompaction(CompactRangeOptions.BottommostLevelCompaction.kForce)
          .setExclusiveManualCompaction(false)) {
        wrapped().flush();
        for (ColumnFamilyHandle family : families) {
          db.compactRange(family, from, to, options);
        }
      } catch (RocksDBException e) {
        throw new IllegalStateException("store " + name() + ": compacting the deleted data of " + users.size() + " user(s) failed: "
            + e.getMessage() + "; it stays until RocksDB compacts those files on its own", e);
      }
    }

    /** The column families the store reads and writes (one, or two for a timestamped store). */
    private List<ColumnFamilyHandle> columnFamilies(Object accessor) {
      List<ColumnFamilyHandle> out = new ArrayList<>();
      for (Class<?> type = accessor.getClass(); type != null; type = type.getSuperclass()) {
        for (Field f : type.getDeclaredFields()) {
          if (ColumnFamilyHandle.class.isAssignableFrom(f.getType())) {
            try {
              f.setAccessible(true);
              ColumnFamilyHandle handle = (ColumnFamilyHandle) f.get(accessor);
              if (handle != null) {
                out.add(handle);
              }
            } catch (IllegalAccessException | RuntimeException e) {
              throw unreachable(e);
            }
          }
        }
      }
      if (out.isEmpty()) {
        throw unreachable(new NoSuchFieldException("no ColumnFamilyHandle in " + accessor.getClass().getName()));
      }
      return out;
    }

    /** A field of Kafka Streams' RocksDBStore, found by name up the class hierarchy. */
    private Object field(Object target, String name) {
      for (Class<?> type = target.getClass(); type != null; type = type.getSuperclass()) {
        try {
          Field field = type.getDeclaredField(name);
          field.setAccessible(true);
          Object value = field.get(target);
          if (value == null) {
            throw new IllegalStateException("store " + name() + " is not open (" + name + " is null)");
          }
          return value;
        } catch (NoSuchFieldException e) {
          // look in the superclass
        } catch (IllegalAccessException | RuntimeException e) {
          throw unreachable(e);
        }
      }
      throw unreachable(new NoSuchFieldException(name + " in " + target.getClass().getName()));
    }

    private IllegalStateException unreachable(Exception cause) {
      return new IllegalStateException("store " + name() + " (" + wrapped().getClass().getName() + "): cannot reach its RocksDB"
          + " handles in this Kafka Streams version (" + cause + "); deleted values stay until RocksDB compacts on its own"
          + " — update ErasableStores", cause);
    }

    @Override
    public void put(Bytes key, byte[] value) {
      wrapped().put(key, value);
    }

    @Override
    public byte[] putIfAbsent(Bytes key, byte[] value) {
      return wrapped().putIfAbsent(key, value);
    }

    @Override
    public void putAll(List<KeyValue<Bytes, byte[]>> entries) {
      wrapped().putAll(entries);
    }

    @Override
    public byte[] delete(Bytes key) {
      return wrapped().delete(key);
    }

    @Override
    public byte[] get(Bytes key) {
      return wrapped().get(key);
    }

    @Override
    public KeyValueIterator<Bytes, byte[]> range(Bytes from, Bytes to) {
      return wrapped().range(from, to);
    }

    @Override
    public KeyValueIterator<Bytes, byte[]> reverseRange(Bytes from, Bytes to) {
      return wrapped().reverseRange(from, to);
    }

    @Override
    public KeyValueIterator<Bytes, byte[]> all() {
      return wrapped().all();
    }

    @Override
    public KeyValueIterator<Bytes, byte[]> reverseAll() {
      return wrapped().reverseAll();
    }

    @Override
    public <PS extends org.apache.kafka.common.serialization.Serializer<P>, P> KeyValueIterator<Bytes, byte[]> prefixScan(
        P prefix, PS prefixKeySerializer) {
      return wrapped().prefixScan(prefix, prefixKeySerializer);
    }

    @Override
    public long approximateNumEntries() {
      return wrapped().approximateNumEntries();
    }
  }

  /** Keeps the timestamped-bytes marker, so Kafka Streams does not put a format adapter above it. */
  static final class TimestampedErasableStore extends ErasableStore implements TimestampedBytesStore {
    TimestampedErasableStore(KeyValueStore<Bytes, byte[]> inner) {
      super(inner);
    }
  }

}
