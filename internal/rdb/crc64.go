package rdb

import "hash/crc64"

// Redis's CRC64 is the Jones polynomial (0xad93d23594c935a9), bit-reflected, with an initial
// value of 0 and no final xor: Go's crc64 with the reflected polynomial, less its two
// inversions. Its check value, of "123456789", is 0xe9c6d914c4b8d9ca.
var jonesTable = crc64.MakeTable(0x95ac9329ac4bc9b5)

// CRC64 returns Redis's CRC64 of b.
func CRC64(b []byte) uint64 { return ^crc64.Update(^uint64(0), jonesTable, b) }
