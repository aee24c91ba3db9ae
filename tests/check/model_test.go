package check

import "testing"

func TestApply(t *testing.T) {
	var empty State
	withA := State{Val: [KeysPerGroup]string{"5"}, Has: [KeysPerGroup]bool{true}}
	for _, tc := range []struct {
		name  string
		s     State
		in    Input
		args  string
		want  Output
		after State
	}{
		{"incr of a missing key", empty, Input{Kind: Incr}, "INCR {g0}a",
			Output{Int: 1, IsInt: true}, State{Val: [KeysPerGroup]string{"1"}, Has: [KeysPerGroup]bool{true}}},
		{"mset in one group", withA, Input{Kind: MSet, Group: 0, Slot: 1, Slot2: 2, Arg: "m"}, "MSET {g0}b m {g0}c m",
			Output{Str: "OK"}, State{Val: [KeysPerGroup]string{"5", "m", "m"}, Has: [KeysPerGroup]bool{true, true, true}}},
		{"transaction", withA, Input{Kind: Txn, Slot: 0, Slot2: 1, Arg: "x"}, "MULTI; INCR {g0}a; APPEND {g0}b x; GET {g0}b; EXEC",
			Output{Multi: []Output{{Int: 6, IsInt: true}, {Int: 1, IsInt: true}, {Str: "x"}}},
			State{Val: [KeysPerGroup]string{"6", "x"}, Has: [KeysPerGroup]bool{true, true}}},
		{"cross-slot mset", withA, Input{Kind: MSet, Slot: 0, Cross: true, Group2: 7, Slot2: 1, Arg: "c"}, "MSET {g0}a c {g7}b c",
			Output{Err: ErrCrossSlot}, withA},
		{"cross-slot transaction", withA, Input{Kind: Txn, Slot: 0, Cross: true, Group2: 7, Slot2: 2, Arg: "c"}, "MULTI; INCR {g0}a; APPEND {g7}c c; GET {g7}c; EXEC",
			Output{Err: ErrCrossSlot}, withA},
	} {
		if got := tc.in.String(); got != tc.args {
			t.Errorf("%s: commands %q, want %q", tc.name, got, tc.args)
		}
		after, out := Apply(tc.s, tc.in)
		if !out.Equal(tc.want) || after != tc.after {
			t.Errorf("%s: Apply = %s, %s; want %s, %s", tc.name, out, after, tc.want, tc.after)
		}
		if ok, _ := Step(tc.s, tc.in, tc.want); !ok {
			t.Errorf("%s: Step refuses the reply Apply gives", tc.name)
		}
	}
}
