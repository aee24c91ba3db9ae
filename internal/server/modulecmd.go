package server

// MODULE: cairn loads no Redis modules (they are C shared objects built against Redis's
// internals). LIST answers truthfully that none is loaded; LOAD, LOADEX and UNLOAD refuse.

func init() {
	registerLocal("module|list", func(s *Server, cl *Client, args [][]byte) { cl.loop.w.Array(0) })
	refuse := func(s *Server, cl *Client, args [][]byte) {
		cl.loop.w.Error("ERR Redis modules are not supported by cairn")
	}
	registerLocal("module|load", refuse)
	registerLocal("module|loadex", refuse)
	registerLocal("module|unload", refuse)
}
