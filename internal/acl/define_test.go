package acl

import "testing"

// TestDefineAgreesWithSetUser checks that rules applied to a definition give what ACL SETUSER
// gives applied to the user itself, step after step.
func TestDefineAgreesWithSetUser(t *testing.T) {
	steps := [][]string{
		{"on", ">pw", "~a:*", "+get"},
		{"+set", "%R~r:*", "resetchannels", "&news.*", "(+del ~d:*)"},
		{"-get", "+client|id", "<pw", "#" + HashPassword([]byte("x"))},
		{"resetchannels", "allkeys", "off"},
		{"reset", "on", "nopass", "+@read", "-@dangerous"},
	}
	for _, allChans := range []bool{false, true} {
		r := NewRegistry()
		r.PubsubAllChannels = func() bool { return allChans }
		def := ""
		for _, rules := range steps {
			want := mustSet(t, r, "u", rules...).Describe()
			got, err := Define("u", def, rules, allChans)
			if err != nil {
				t.Fatalf("Define %v: %v", rules, err)
			}
			if got != want {
				t.Fatalf("allchannels %v, after %v: Define gives %q, SETUSER %q", allChans, rules, got, want)
			}
			def = got
		}
	}
	if _, err := Define("u", "", []string{"+nosuchcommand"}, false); err == nil {
		t.Error("Define accepted an unknown command")
	}
}

// TestAdopt checks that adopting a set of users keeps the default user when the set has none,
// deletes the users it lacks, and reports only the users whose rules changed.
func TestAdopt(t *testing.T) {
	r := NewRegistry()
	r.SetDefaultPassword("secret")
	mustSet(t, r, "old", "on")
	mustSet(t, r, "same", "on", "+get")
	sameDef := r.Get("same").User().Describe()
	users, err := ParseDefinitions(map[string]string{"same": sameDef, "new": "on nopass +@all"})
	if err != nil {
		t.Fatal(err)
	}
	ch := r.Adopt(users)
	if len(ch.Deleted) != 1 || ch.Deleted[0].Name() != "old" || !ch.Deleted[0].Deleted() {
		t.Errorf("deleted %v, want old", ch.Deleted)
	}
	if len(ch.Changed) != 0 {
		t.Errorf("changed %d users, want none (same kept its rules, new is new)", len(ch.Changed))
	}
	if !r.Default().User().CheckPassword([]byte("secret")) {
		t.Error("the default user lost its password")
	}
	if r.Get("new") == nil || r.Get("old") != nil {
		t.Errorf("users after Adopt: %v", r.Names())
	}
}
