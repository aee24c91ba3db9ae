// Package slot owns the mapping of keys to Redis Cluster's 16384 hash slots: CRC16 of the key,
// or of its hash tag. Storage keys carry the slot, and routing sends each key to the shard that
// owns its slot, so both use this one definition.
package slot
