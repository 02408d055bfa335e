package mission

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"ok", "arena: {diameter_m: 3}\nrobots:\n  r1: {route: [1, 2]}\n", ""},
		{"no diameter", "robots:\n  r1: {route: [1]}\n", "arena.diameter_m"},
		{"empty route", "arena: {diameter_m: 3}\nrobots:\n  r1: {route: []}\n", "robots.r1: invalid mission: empty route"},
		{"negative marker", "arena: {diameter_m: 3}\nrobots:\n  r1: {route: [1, -2]}\n", "route[1] = -2"},
		{"repeat", "arena: {diameter_m: 3}\nrobots:\n  r1: {route: [1, 1]}\n", "repeats"},
		{"shared final goal", "arena: {diameter_m: 3}\nrobots:\n  r1: {route: [1, 5]}\n  r2: {route: [9, 5]}\n", "robots.r1 and robots.r2 both end at marker 5"},
		{"goal of one, waypoint of another", "arena: {diameter_m: 3}\nrobots:\n  r1: {route: [1, 2]}\n  r2: {route: [2, 9]}\n", ""},
		{"bad id", "arena: {diameter_m: 3}\nrobots:\n  \"r 1\": {route: [1]}\n", "robot id"},
		{"unknown key", "arena: {diameter_m: 3}\nrobotz: {}\n", "robotz"},
		{"bad speed", "arena: {diameter_m: 3}\nrobots:\n  r1: {route: [1], speed_mps: -1}\n", "speed_mps"},
		{"bad mapper", "arena: {diameter_m: 3}\nmapper: \"a b\"\n", "mapper"},
		{"not yaml", "arena: [", "yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(tc.yaml))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if got := f.Robots["r1"].Route; len(got) != 2 || got[1] != 2 {
					t.Fatalf("route = %v", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestExampleFile(t *testing.T) {
	f, err := Load("../../deploy/missions.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if f.Arena.DiameterM != 3 || f.Mapper != "r1" || len(f.Robots) != 4 {
		t.Fatalf("unexpected file %+v", f)
	}
	if got := f.SpeedOf("r4", 0.1); got != 0.25 {
		t.Fatalf("SpeedOf r4 = %v", got)
	}
	if got := f.SpeedOf("r1", 0.1); got != 0.2 {
		t.Fatalf("SpeedOf r1 = %v", got)
	}
}

func TestApply(t *testing.T) {
	at := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	type cp struct {
		epoch        uint64
		step, marker int
	}
	tests := []struct {
		name        string
		cps         []cp
		wantReached int
		wantLast    Outcome
		wantErr     string
	}{
		{"first", []cp{{5, 0, 1}}, 1, Applied, ""},
		{"in order", []cp{{5, 0, 1}, {5, 1, 2}, {5, 2, 3}}, 3, Applied, ""},
		{"duplicate", []cp{{5, 0, 1}, {5, 0, 1}}, 1, Duplicate, ""},
		{"later epoch ok", []cp{{5, 0, 1}, {6, 1, 2}}, 2, Applied, ""},
		{"skip ahead", []cp{{5, 1, 2}}, 2, Applied, ""},
		{"wrong marker", []cp{{5, 0, 9}}, 0, 0, "step 0 is marker 1"},
		{"old epoch", []cp{{4, 0, 1}}, 0, 0, "older"},
		{"outside", []cp{{5, 3, 1}}, 0, 0, "outside"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New("r1", []int{1, 2, 3}, 5)
			if err != nil {
				t.Fatal(err)
			}
			var out Outcome
			for _, c := range tc.cps {
				out, err = s.Apply(c.epoch, c.step, c.marker, at)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
			} else if err != nil || out != tc.wantLast {
				t.Fatalf("out, err = %v, %v; want %v", out, err, tc.wantLast)
			}
			if s.Reached != tc.wantReached {
				t.Fatalf("Reached = %d, want %d", s.Reached, tc.wantReached)
			}
			if s.Done() != (tc.wantReached == 3) {
				t.Fatalf("Done = %v", s.Done())
			}
		})
	}
}

func TestReleaseAndTarget(t *testing.T) {
	s, _ := New("r1", []int{4, 5, 6}, 1)
	tests := []struct {
		reached, lookahead, want int
	}{
		{0, 2, 2}, {1, 2, 3}, {2, 2, 3}, {0, 0, 1}, {0, 9, 3},
	}
	for _, tc := range tests {
		s.Reached = tc.reached
		if got := s.Release(tc.lookahead); got != tc.want {
			t.Errorf("Release(reached %d, look %d) = %d, want %d", tc.reached, tc.lookahead, got, tc.want)
		}
	}
	s.Reached = 1
	if m, ok := s.Target(); !ok || m != 5 {
		t.Fatalf("Target = %d %v", m, ok)
	}
	if m, ok := s.Previous(); !ok || m != 4 {
		t.Fatalf("Previous = %d %v", m, ok)
	}
	c := s.Clone()
	c.Route[0] = 99
	if s.Route[0] != 4 {
		t.Fatal("Clone shares the route")
	}
}

func TestCheckOnMap(t *testing.T) {
	on := func(id int) bool { return id < 10 }
	if err := CheckOnMap([]int{1, 2}, on); err != nil {
		t.Fatal(err)
	}
	err := CheckOnMap([]int{1, 12}, on)
	if !errors.Is(err, ErrNotOnMap) || !strings.Contains(err.Error(), "route[1] = 12") {
		t.Fatalf("err = %v", err)
	}
}
