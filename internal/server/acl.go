package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-db/cairn/internal/acl"
	"github.com/cairn-db/cairn/internal/command"
)

func init() {
	registerLocal("acl", cmdACL)
}

// initACL creates the users: the default user (with requirepass as its password), then the
// config file's "user" lines or the aclfile's users.
func (s *Server) initACL() error {
	r := acl.NewRegistry()
	r.PubsubAllChannels = func() bool {
		v, _ := s.cfg.Get("acl-pubsub-default")
		return v == "allchannels"
	}
	s.acl = r
	if rp := s.cfg.RequirePass(); rp != "" {
		r.SetDefaultPassword(rp)
	}
	hook := func(v string) { r.SetDefaultPassword(v) }
	s.cfg.requirePassHook.Store(&hook)
	file := s.aclFile()
	if len(s.cfg.Users) > 0 && file != "" {
		return errors.New("configuring users in the config file and an aclfile at the same time is invalid: define either an ACL file or users in the config file, not both")
	}
	if len(s.cfg.Users) > 0 {
		users, err := acl.ParseUsers(s.cfg.Users, s.cfg.UsersWhere, r.PubsubAllChannels())
		if err != nil {
			return err
		}
		r.Replace(users)
	}
	if file != "" {
		users, err := acl.LoadFile(file, r.PubsubAllChannels())
		if err != nil {
			return errors.New("aborting startup because of ACL errors: " + err.Error())
		}
		r.Replace(users)
	}
	return nil
}

// aclFile is the aclfile's path; a relative path is relative to the data directory, as in
// Redis, which changes to its dir at startup.
func (s *Server) aclFile() string {
	v, _ := s.cfg.Get("aclfile")
	if v != "" && !filepath.IsAbs(v) {
		v = filepath.Join(s.cfg.Dir, v)
	}
	return v
}

func applyRequirePass(c *Config, v string) {
	c.live.requirePass.Store(&v)
	if h := c.requirePassHook.Load(); h != nil {
		(*h)(v)
	}
}

// defaultAuthed reports whether a new connection is authenticated at once: its user needs no
// password and is enabled.
func defaultAuthed(h *acl.Handle) bool {
	u := h.User()
	return u.NoPass() && u.Enabled()
}

// authenticate checks a user name (nil for the default user) and password, and makes the
// connection that user's on success. A failure goes to the ACL log.
func (s *Server) authenticate(cl *Client, name, pass []byte, cmdName []byte) bool {
	user := "default"
	if name != nil {
		user = string(name)
	}
	if h := s.acl.Get(user); h != nil && h.User().CheckPassword(pass) {
		cl.user, cl.authed = h, true
		return true
	}
	s.logACL(cl, acl.Entry{Reason: acl.DeniedAuth, Username: user, Object: string(cmdName)})
	return false
}

// checkACL decides, once per request, whether the connection's user may run it.
func checkACL(cl *Client, cmd *command.Command, args [][]byte) acl.Denial {
	return cl.user.User().Check(cmd, args)
}

// refuseACL answers a denied request with Redis's NOPERM error and logs it.
func (s *Server) refuseACL(cl *Client, d acl.Denial, cmd *command.Command, args [][]byte) {
	u := cl.user.User()
	s.flagMultiError(cl)
	cl.loop.w.Error("NOPERM " + d.Message(u.Name, cmd, args, false))
	e := acl.Entry{Reason: d.Reason, Username: u.Name}
	switch d.Reason {
	case acl.DeniedCmd:
		e.Object = cmd.Name
	default:
		e.Object = string(args[d.Pos])
	}
	s.logACL(cl, e)
}

// queuedDenied returns the index of the first command queued in MULTI that the client's user
// may no longer run (its rules changed since it was queued), or -1.
func queuedDenied(cl *Client) int {
	u := cl.user.User()
	for i, q := range cl.queued {
		if u.Check(q.cmd, q.args).Reason != acl.OK {
			return i
		}
	}
	return -1
}

// refuseExec answers an EXEC whose queued commands include one the user may no longer run.
// Redis runs the others and answers that one with NOPERM inside EXEC's reply; cairn applies a
// transaction as one operation, so it discards the whole transaction with that NOPERM error.
func (s *Server) refuseExec(cl *Client) {
	i := queuedDenied(cl)
	q := cl.queued[i]
	u := cl.user.User()
	d := u.Check(q.cmd, q.args)
	e := acl.Entry{Reason: d.Reason, Username: u.Name, Object: q.cmd.Name}
	if d.Reason != acl.DeniedCmd {
		e.Object = string(q.args[d.Pos])
	}
	s.logACL(cl, e)
	cl.multi, cl.multiDirty, cl.queued, cl.multiSlot = false, false, nil, noSlot
	s.unwatchAll(cl)
	cl.loop.w.Error("NOPERM " + d.Message(u.Name, q.cmd, q.args, false))
}

func (s *Server) logACL(cl *Client, e acl.Entry) {
	if cl.multi {
		e.Context = acl.CtxMulti
	} else {
		e.Context = acl.CtxTopLevel
	}
	cl.publish()
	now := time.Now().UnixMilli()
	e.ClientInfo = s.clientLine(cl, cl.snapshotInfo(), now)
	max := 128
	if v, ok := s.cfg.Get("acllog-max-len"); ok {
		if n, err := strconv.Atoi(v); err == nil {
			max = n
		}
	}
	s.acl.Log.Add(e, now, max)
}

// aclSyntaxError is Redis's reply to a known subcommand given the wrong arguments.
func aclSyntaxError(cl *Client, args [][]byte) {
	cl.loop.w.Error("ERR unknown subcommand or wrong number of arguments for '" + truncate(string(args[1]), 128) + "'. Try ACL HELP.")
}

func cmdACL(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	switch strings.ToLower(string(args[1])) {
	case "list", "users", "whoami", "load", "save", "help":
		if len(args) != 2 {
			aclSyntaxError(cl, args)
			return
		}
	}
	switch strings.ToLower(string(args[1])) {
	case "setuser":
		rules := make([]string, len(args)-3)
		for i, a := range args[3:] {
			rules[i] = string(a)
		}
		if s.cluster != nil {
			s.clusterSetUser(cl, string(args[2]), rules)
			return
		}
		ch, err := s.acl.SetUser(string(args[2]), rules)
		if err != nil {
			w.Error("ERR " + err.Error())
			return
		}
		if ch.Old != nil {
			s.dropSubscribers(cl, ch)
		}
		w.OK()
	case "deluser":
		names := make([]string, len(args)-2)
		for i, a := range args[2:] {
			names[i] = string(a)
		}
		if s.cluster != nil {
			s.clusterDelUsers(cl, names)
			return
		}
		deleted, err := s.acl.DelUsers(names)
		if err != nil {
			w.Error("ERR " + err.Error())
			return
		}
		s.dropUsers(cl, deleted)
		w.Int(int64(len(deleted)))
	case "getuser":
		h := s.acl.Get(string(args[2]))
		if h == nil {
			w.Null()
			return
		}
		writeGetUser(w, h.User())
	case "list", "users":
		names := s.acl.Names()
		w.Array(len(names))
		for _, n := range names {
			h := s.acl.Get(n)
			switch {
			case h == nil:
				w.Null()
			case command.EqualFold(args[1], "users"):
				w.BulkString(n)
			default:
				w.BulkString("user " + n + " " + h.User().Describe())
			}
		}
	case "whoami":
		w.BulkString(cl.user.Name())
	case "cat":
		if len(args) == 2 {
			w.Array(len(acl.Categories))
			for _, c := range acl.Categories {
				w.BulkString(c)
			}
			return
		}
		if len(args) != 3 {
			aclSyntaxError(cl, args)
			return
		}
		names, ok := acl.CategoryCommands(strings.ToLower(string(args[2])))
		if !ok {
			w.Error("ERR Unknown category '" + truncate(string(args[2]), 128) + "'")
			return
		}
		w.Array(len(names))
		for _, n := range names {
			w.BulkString(n)
		}
	case "genpass":
		aclGenpass(cl, args)
	case "log":
		s.aclLog(cl, args)
	case "dryrun":
		s.aclDryrun(cl, args)
	case "load", "save":
		s.aclLoadSave(cl, args)
	case "help":
		lines := []string{
			"ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"CAT [<category>]",
			"    List all commands that belong to <category>, or all command categories",
			"    when no category is specified.",
			"DELUSER <username> [<username> ...]",
			"    Delete a list of users.",
			"DRYRUN <username> <command> [<arg> ...]",
			"    Returns whether the user can execute the given command without executing the command.",
			"GETUSER <username>",
			"    Get the user's details.",
			"GENPASS [<bits>]",
			"    Generate a secure 256-bit user password. The optional `bits` argument can",
			"    be used to specify a different size.",
			"LIST",
			"    Show users details in config file format.",
			"LOAD",
			"    Reload users from the ACL file.",
			"LOG [<count> | RESET]",
			"    Show the ACL log entries.",
			"SAVE",
			"    Save the current config to the ACL file.",
			"SETUSER <username> <attribute> [<attribute> ...]",
			"    Create or modify a user with the specified attributes.",
			"USERS",
			"    List all the registered usernames.",
			"WHOAMI",
			"    Return the current connection username.",
			"HELP",
			"    Print this help.",
		}
		w.Array(len(lines))
		for _, l := range lines {
			w.Status(l)
		}
	default:
		w.Error("ERR unknown subcommand '" + truncate(string(args[1]), 128) + "'. Try ACL HELP.")
	}
}

// writeGetUser writes ACL GETUSER's reply: a map of flags, passwords, the root selector's
// commands, keys and channels, and the other selectors.
func writeGetUser(w interface {
	Map(int)
	Set(int)
	Array(int)
	BulkString(string)
}, u *acl.User) {
	sels := u.Selectors()
	w.Map(6)
	w.BulkString("flags")
	flags := u.Flags()
	w.Set(len(flags))
	for _, f := range flags {
		w.BulkString(f)
	}
	w.BulkString("passwords")
	w.Array(len(u.Passwords()))
	for _, p := range u.Passwords() {
		w.BulkString(p)
	}
	writeSelector := func(si acl.SelectorInfo) {
		w.BulkString("commands")
		w.BulkString(si.Commands)
		w.BulkString("keys")
		w.BulkString(si.Keys)
		w.BulkString("channels")
		w.BulkString(si.Channels)
	}
	writeSelector(sels[0])
	w.BulkString("selectors")
	w.Array(len(sels) - 1)
	for _, si := range sels[1:] {
		w.Map(3)
		writeSelector(si)
	}
}

func aclGenpass(cl *Client, args [][]byte) {
	w := &cl.loop.w
	bits := int64(256)
	if len(args) > 3 {
		aclSyntaxError(cl, args)
		return
	}
	if len(args) == 3 {
		n, ok := command.ParseInt(args[2])
		if !ok {
			w.Error(command.ErrNotInt)
			return
		}
		bits = n
	}
	if bits <= 0 || bits > 4096 {
		w.Error("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
		return
	}
	chars := (bits + 3) / 4
	buf := make([]byte, (chars+1)/2)
	_, _ = rand.Read(buf)
	w.BulkString(hex.EncodeToString(buf)[:chars])
}

func (s *Server) aclLog(cl *Client, args [][]byte) {
	w := &cl.loop.w
	count := int64(10)
	switch len(args) {
	case 2:
	case 3:
		if command.EqualFold(args[2], "reset") {
			s.acl.Log.Reset()
			w.OK()
			return
		}
		n, ok := command.ParseInt(args[2])
		if !ok {
			w.Error(command.ErrNotInt)
			return
		}
		count = max(n, 0)
	default:
		aclSyntaxError(cl, args)
		return
	}
	if count > 1<<20 {
		count = 1 << 20
	}
	entries := s.acl.Log.Entries(int(count))
	now := time.Now().UnixMilli()
	w.Array(len(entries))
	for _, e := range entries {
		w.Map(10)
		w.BulkString("count")
		w.Int(e.Count)
		w.BulkString("reason")
		w.BulkString(e.Reason.String())
		w.BulkString("context")
		w.BulkString(e.Context)
		w.BulkString("object")
		w.BulkString(e.Object)
		w.BulkString("username")
		w.BulkString(e.Username)
		w.BulkString("age-seconds")
		w.Double(float64(now-e.Updated) / 1000)
		w.BulkString("client-info")
		w.BulkString(e.ClientInfo)
		w.BulkString("entry-id")
		w.Int(e.ID)
		w.BulkString("timestamp-created")
		w.Int(e.Created)
		w.BulkString("timestamp-last-updated")
		w.Int(e.Updated)
	}
}

func (s *Server) aclDryrun(cl *Client, args [][]byte) {
	w := &cl.loop.w
	h := s.acl.Get(string(args[2]))
	if h == nil {
		w.Error("ERR User '" + string(args[2]) + "' not found")
		return
	}
	cargs := args[3:]
	cmd, sub := resolve(cargs)
	if cmd != nil && len(cmd.Subcommands) > 0 {
		if len(cargs) < 2 || sub == nil {
			cmd = nil
		} else {
			cmd = sub
		}
	}
	if cmd == nil {
		w.Error("ERR Command '" + string(args[3]) + "' not found")
		return
	}
	if !command.CheckArity(cmd.Arity, len(cargs)) {
		w.Error("ERR wrong number of arguments for '" + cmd.Name + "' command")
		return
	}
	u := h.User()
	if d := u.Check(cmd, cargs); d.Reason != acl.OK {
		w.BulkString(d.Message(u.Name, cmd, cargs, true))
		return
	}
	w.OK()
}

func (s *Server) aclLoadSave(cl *Client, args [][]byte) {
	w := &cl.loop.w
	file := s.aclFile()
	if file == "" {
		w.Error("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.")
		return
	}
	if command.EqualFold(args[1], "save") {
		if err := s.acl.Save(file); err != nil {
			s.logger.Warn("ACL SAVE failed", "file", file, "err", err)
			w.Error("ERR There was an error trying to save the ACLs. Please check the server logs for more information")
			return
		}
		w.OK()
		return
	}
	users, err := acl.LoadFile(file, s.acl.PubsubAllChannels())
	if err != nil {
		w.Error("ERR " + err.Error())
		return
	}
	if s.cluster != nil {
		s.clusterLoadUsers(cl, users)
		return
	}
	ch := s.acl.Replace(users)
	s.dropUsers(cl, ch.Deleted)
	for _, c := range ch.Changed {
		s.dropSubscribers(cl, c)
	}
	w.OK()
}

// dropUsers disconnects the connections of deleted users, as Redis does.
func (s *Server) dropUsers(self *Client, deleted []*acl.Handle) {
	if len(deleted) == 0 {
		return
	}
	for _, c := range s.snapshotClients() {
		u := c.snapshotInfo().user
		for _, h := range deleted {
			if u == h {
				if c.aclParked.Load() {
					c.closeWhenAnswered.Store(true)
				} else {
					s.kill(c, self)
				}
				break
			}
		}
	}
}

// dropSubscribers disconnects the subscribers of a changed user that hold a subscription the
// user's new rules no longer allow.
func (s *Server) dropSubscribers(self *Client, ch acl.Changed) {
	if ch.Old == nil || ch.New.ChannelsKept(ch.Old) || s.hub.clients.Load() == 0 {
		return
	}
	type sub struct {
		c       *Client
		name    string
		pattern bool
	}
	var subs []sub
	s.hub.mu.RLock()
	for _, k := range []subKind{kindChannel, kindPattern, kindShard} {
		for name, ss := range s.hub.table(k) {
			for _, c := range ss.list {
				subs = append(subs, sub{c, name, k == kindPattern})
			}
		}
	}
	s.hub.mu.RUnlock()
	killed := map[*Client]bool{}
	for _, x := range subs {
		if killed[x.c] || x.c.snapshotInfo().user != ch.H {
			continue
		}
		if !ch.New.SubscriptionKept(x.name, x.pattern) {
			killed[x.c] = true
			s.kill(x.c, self)
		}
	}
}
