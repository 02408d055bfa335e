package topics_test

import (
	"strings"
	"testing"

	"collaborate/topics"
)

// The rules are parsed from the built-in document, complete, each with a
// unique id and a text of one paragraph (the conformance kit prints it on
// one line).
func TestRobotRules(t *testing.T) {
	rules := topics.RobotRules()
	if len(rules) < 10 {
		t.Fatalf("%d robot rules, want the document's dozen", len(rules))
	}
	seen := map[string]bool{}
	for _, r := range rules {
		if r.ID == "" || r.Title == "" || r.Text == "" {
			t.Errorf("rule %+v has an empty field", r)
		}
		if seen[r.ID] {
			t.Errorf("rule %q appears twice", r.ID)
		}
		seen[r.ID] = true
		if strings.Contains(r.Text, "\n") {
			t.Errorf("rule %q: text spans lines", r.ID)
		}
	}
	if r, ok := topics.RobotRule("failsafe"); !ok || !strings.Contains(r.Text, "0.8 s") {
		t.Errorf("RobotRule(failsafe) = %+v, %v", r, ok)
	}
	if _, ok := topics.RobotRule("nope"); ok {
		t.Error("RobotRule found a rule that does not exist")
	}
}
