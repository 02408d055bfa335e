package conform

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"collaborate/topics"
)

// Verdicts of a rule.
const (
	Pass = "PASS"
	Fail = "FAIL"
	Skip = "SKIP"
)

// RuleResult is the verdict on one rule.
type RuleResult struct {
	Rule     topics.Rule
	Verdict  string   // Pass, Fail or Skip
	Checks   []string // what was checked and held
	Failures []string // what was observed that breaks the rule
	Skipped  []string // why parts of it were not checked
}

// Result is a run's verdicts, one per robot rule, in the document's order.
type Result struct {
	Robot string
	Rules []RuleResult
	Dir   string // the robot's output and files, kept when a rule failed
}

// Failed reports whether any rule failed.
func (r *Result) Failed() bool {
	for _, rr := range r.Rules {
		if rr.Verdict == Fail {
			return true
		}
	}
	return false
}

// Rule returns the verdict on rule id.
func (r *Result) Rule(id string) (RuleResult, bool) {
	for _, rr := range r.Rules {
		if rr.Rule.ID == id {
			return rr, true
		}
	}
	return RuleResult{}, false
}

// Print writes one line per rule: the verdict, the rule's id and its text
// as the contract states it; then, indented, what broke it (or, for a
// skipped rule, why), and with verbose what was checked.
func (r *Result) Print(w io.Writer, verbose bool) {
	width := 0
	for _, rr := range r.Rules {
		width = max(width, len(rr.Rule.ID))
	}
	counts := map[string]int{}
	for _, rr := range r.Rules {
		counts[rr.Verdict]++
		fmt.Fprintf(w, "%s %-*s  %s\n", rr.Verdict, width, rr.Rule.ID, rr.Rule.Text)
		for _, f := range rr.Failures {
			fmt.Fprintf(w, "       - %s\n", f)
		}
		if rr.Verdict == Skip || verbose {
			for _, s := range rr.Skipped {
				fmt.Fprintf(w, "       ~ not checked: %s\n", s)
			}
		}
		if verbose {
			for _, c := range rr.Checks {
				fmt.Fprintf(w, "       + %s\n", c)
			}
		}
	}
	fmt.Fprintf(w, "robot %s: %d PASS, %d FAIL, %d SKIP of %d rules\n", r.Robot, counts[Pass], counts[Fail], counts[Skip], len(r.Rules))
	if r.Dir != "" {
		fmt.Fprintf(w, "robot output and files: %s\n", r.Dir)
	}
}

// results collects checks as the run goes.
type results struct {
	mu sync.Mutex
	by map[string]*RuleResult
}

func newResults() *results {
	rs := &results{by: map[string]*RuleResult{}}
	for _, r := range topics.RobotRules() {
		rs.by[r.ID] = &RuleResult{Rule: r}
	}
	return rs
}

func (rs *results) get(rule string) *RuleResult {
	r, ok := rs.by[rule]
	if !ok {
		// A check for a rule the document does not have is the kit's bug.
		panic("conform: no robot rule " + rule + " in asyncapi.yaml")
	}
	return r
}

// pass records a check of rule that held.
func (rs *results) pass(rule, format string, args ...any) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r := rs.get(rule)
	r.Checks = append(r.Checks, fmt.Sprintf(format, args...))
}

// fail records what broke rule.
func (rs *results) fail(rule, format string, args ...any) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r := rs.get(rule)
	r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
}

// skip records a part of rule that was not checked, and why.
func (rs *results) skip(rule, format string, args ...any) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r := rs.get(rule)
	r.Skipped = append(r.Skipped, fmt.Sprintf(format, args...))
}

// check records a check of rule: held when ok, else what broke it.
func (rs *results) check(rule string, ok bool, what, broke string, args ...any) {
	if ok {
		rs.pass(rule, "%s", what)
	} else {
		rs.fail(rule, broke, args...)
	}
}

// failed reports whether a check failed so far.
func (rs *results) failed() bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, r := range rs.by {
		if len(r.Failures) > 0 {
			return true
		}
	}
	return false
}

func (rs *results) result(robot string) *Result {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	out := &Result{Robot: robot}
	for _, rule := range topics.RobotRules() {
		r := *rs.by[rule.ID]
		switch {
		case len(r.Failures) > 0:
			r.Verdict = Fail
		case len(r.Checks) > 0:
			r.Verdict = Pass
		default:
			r.Verdict = Skip
			if len(r.Skipped) == 0 {
				r.Skipped = []string{"no check of the kit covers it"}
			}
		}
		out.Rules = append(out.Rules, r)
	}
	return out
}

// oneLine squeezes an observation onto one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
