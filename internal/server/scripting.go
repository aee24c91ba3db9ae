package server

import (
	"encoding/binary"
	"hash/crc64"
	"strings"

	"github.com/cairn-db/cairn/internal/command"
)

// Scripting (EVAL, FUNCTION, SCRIPT) is not implemented yet. The function library is therefore
// always empty, and the commands that only report on it answer as Redis does over an empty
// library; everything that would load or run code answers errNoScripting.

const errNoScripting = "ERR scripting is not supported by cairn"

func init() {
	for _, name := range []string{"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro", "script"} {
		registerLocal(name, cmdNoScripting)
	}
	registerLocal("function", cmdFunction)
}

func cmdNoScripting(s *Server, cl *Client, args [][]byte) {
	cl.loop.w.Error(errNoScripting)
}

// rdbVersion is the RDB format version of the Redis release cairn follows; FUNCTION DUMP's
// payload carries it.
const rdbVersion = 12

// crcJones is Redis's CRC-64 (Jones polynomial, reflected), which DUMP payloads end with.
var crcJones = crc64.MakeTable(0x95AC9329AC4BC9B5)

// dumpTrailer appends the version and checksum that end every DUMP / FUNCTION DUMP payload.
func dumpTrailer(payload []byte) []byte {
	payload = binary.LittleEndian.AppendUint16(payload, rdbVersion)
	// Redis's CRC starts from 0 with no final inversion; Go's inverts both ends.
	crc := ^crc64.Update(^uint64(0), crcJones, payload)
	return binary.LittleEndian.AppendUint64(payload, crc)
}

func cmdFunction(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	switch strings.ToLower(string(args[1])) {
	case "list":
		named := false
		for i := 2; i < len(args); i++ {
			switch {
			case command.EqualFold(args[i], "withcode"):
			case command.EqualFold(args[i], "libraryname"):
				if i == len(args)-1 {
					w.Error("ERR library name argument was not given")
					return
				}
				if named {
					w.Error("ERR library name can be given only once")
					return
				}
				named = true
				i++
			default:
				w.Error("ERR Unknown argument " + string(args[i]))
				return
			}
		}
		w.Array(0)
	case "flush":
		if len(args) == 3 && !command.EqualFold(args[2], "sync") && !command.EqualFold(args[2], "async") || len(args) > 3 {
			w.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
			return
		}
		w.OK()
	case "stats":
		w.Map(2)
		w.BulkString("running_script")
		w.Null()
		w.BulkString("engines")
		w.Map(1)
		w.BulkString("LUA")
		w.Map(2)
		w.BulkString("libraries_count")
		w.Int(0)
		w.BulkString("functions_count")
		w.Int(0)
	case "dump":
		w.Bulk(dumpTrailer(nil))
	case "kill":
		w.Error("NOTBUSY No scripts in execution right now.")
	case "help":
		writeHelp(w, "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"LOAD [REPLACE] <FUNCTION CODE>", "    Create a new library with the given library name and code.",
			"DELETE <LIBRARY NAME>", "    Delete the given library.",
			"LIST [LIBRARYNAME PATTERN] [WITHCODE]", "    Return general information on all the libraries.",
			"STATS", "    Return information about the current function running.",
			"KILL", "    Kill the current running function.",
			"FLUSH [ASYNC|SYNC]", "    Delete all the libraries.",
			"DUMP", "    Return a serialized payload representing the current libraries.",
			"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]", "    Restore the libraries represented by the given payload.",
			"HELP", "    Print this help.",
			"(cairn: loading and running functions is not supported yet.)")
	default: // load, delete, restore
		w.Error(errNoScripting)
	}
}
