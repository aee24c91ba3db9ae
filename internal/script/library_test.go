package script

import (
	"context"
	"testing"

	"github.com/cairn-db/cairn/internal/resp"
)

// Library loading errors are redis-server 7.0.15's.
func TestLoadLibrary(t *testing.T) {
	e := NewEngine()
	for _, tc := range []struct{ code, want string }{
		{"redis.register_function('f1', function() end)", "ERR Missing library metadata"},
		{"#!lua\nredis.register_function('ab', function() end)", "ERR Library name was not given"},
		{"#!lua name=x3 foo=bar\nredis.register_function('ab', function() end)", "ERR Invalid metadata value given: foo=bar"},
		{"#!lua name=x\nreturn 1", "ERR No functions registered"},
		{"#!lua name=x3\nredis.call('ping')", "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'"},
		{"#!lua name=x3\nfoo=1", "ERR Error registering functions: ERR user_function:2: Attempt to modify a readonly table"},
		{"#!lua name=x3\nredis.register_function{function_name='ab', callback=function() end, flags={'bad'}}", "ERR Error registering functions: ERR unknown flag given"},
		{"#!lua name=x3\nredis.register_function{function_name='ab', callback=function() end, foo=1}", "ERR Error registering functions: ERR unknown argument given to redis.register_function"},
		{"#!lua name=lib\nlocal a = 1 while 1 do a = a + 1 end", "ERR FUNCTION LOAD timeout"},
	} {
		_, err := e.LoadLibrary([]byte(tc.code))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: got %v, want %q", tc.code, err, tc.want)
		}
	}

	code := "#!lua name=mylib\n" +
		"redis.register_function('F1', function(keys, args) return {keys[1], args[1]} end)\n" +
		"redis.register_function{function_name='f2', callback=function() return 2 end, flags={'no-writes', 'allow-oom'}, description='d'}\n"
	lib, err := e.LoadLibrary([]byte(code))
	if err != nil {
		t.Fatal(err)
	}
	libs := NewLibraries()
	if err := libs.Add(lib, false); err != nil {
		t.Fatal(err)
	}
	if err := libs.Add(lib, false); err == nil || err.Error() != "ERR Library 'mylib' already exists" {
		t.Fatalf("second add: %v", err)
	}
	back, err := e.DecodeLibraries(libs.Encode())
	if err != nil || len(back.Libs) != 1 || back.Funcs["f2"].Description != "d" || back.Funcs["f2"].Flags != FlagNoWrites|FlagAllowOOM {
		t.Fatalf("decode: %+v, %v", back, err)
	}
	w := resp.Writer{Proto: 2}
	e.Call(context.Background(), &w, back.Funcs["f1"], Request{Keys: [][]byte{[]byte("k")}, Args: [][]byte{[]byte("a")}})
	if got := string(w.Buf); got != "*2\r\n$1\r\nk\r\n$1\r\na\r\n" {
		t.Fatalf("FCALL F1: %q", got)
	}
}
