package slot

// Count is the number of hash slots, as Redis Cluster.
const Count = 16384

// crc16tab is CRC16-CCITT (XMODEM), the checksum Redis Cluster hashes keys with.
var crc16tab = func() [256]uint16 {
	var t [256]uint16
	for i := range t {
		crc := uint16(i) << 8
		for j := 0; j < 8; j++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[i] = crc
	}
	return t
}()

func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc = crc<<8 ^ crc16tab[byte(crc>>8)^c]
	}
	return crc
}

// KeySlot is the hash slot of a key: CRC16 of the key, or of its hash tag (the part between the
// first '{' and the next '}', if not empty), modulo 16384.
func KeySlot(key []byte) int {
	for i, c := range key {
		if c == '{' {
			for j := i + 1; j < len(key); j++ {
				if key[j] == '}' {
					if j > i+1 {
						key = key[i+1 : j]
					}
					break
				}
			}
			break
		}
	}
	return int(crc16(key)) & (Count - 1)
}

// PrefixSlot reports the slot every key starting with prefix hashes to, if the prefix decides
// it: when it holds the key's hash tag whole (the first '{' and the next '}', with something
// between them).
func PrefixSlot(prefix []byte) (int, bool) {
	for i, c := range prefix {
		if c != '{' {
			continue
		}
		for j := i + 1; j < len(prefix); j++ {
			if prefix[j] == '}' {
				if j > i+1 {
					return int(crc16(prefix[i+1:j])) & (Count - 1), true
				}
				return 0, false // "{}": the whole key is hashed
			}
		}
		return 0, false
	}
	return 0, false
}
