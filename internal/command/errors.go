package command

// Error texts shared by many commands, exactly as Redis sends them.
const (
	ErrWrongType     = "WRONGTYPE Operation against a key holding the wrong kind of value"
	ErrSyntax        = "ERR syntax error"
	ErrNotInt        = "ERR value is not an integer or out of range"
	ErrNotFloat      = "ERR value is not a valid float"
	ErrOverflow      = "ERR increment or decrement would overflow"
	ErrNoSuchKey     = "ERR no such key"
	ErrDBIndex       = "ERR DB index is out of range"
	ErrStringTooLong = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	ErrIndexRange    = "ERR index out of range"
	ErrNaN           = "ERR increment would produce NaN or Infinity"
	ErrBitOffset     = "ERR bit offset is not an integer or out of range"
	ErrBitValue      = "ERR bit is not an integer or out of range"
	ErrTimeout       = "ERR timeout is not a float or out of range"
	ErrNegTimeout    = "ERR timeout is negative"
	ErrSameObject    = "ERR source and destination objects are the same"
	ErrPositive      = "ERR value is out of range, must be positive"
)

// ErrWrongArgs is the arity error for a command.
func ErrWrongArgs(name string) string {
	return "ERR wrong number of arguments for '" + name + "' command"
}
