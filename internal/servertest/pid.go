package servertest

import (
	"os"
	"strconv"
	"strings"
)

// Pid is the server process's id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// PeakRSS is the most resident memory the server process has had, in bytes (Linux; 0 elsewhere).
func (s *Server) PeakRSS() int64 { return procStatus(s.Pid(), "VmHWM:") }

// RSS is the server process's resident memory now, in bytes (Linux; 0 elsewhere).
func (s *Server) RSS() int64 { return procStatus(s.Pid(), "VmRSS:") }

func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == field {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
