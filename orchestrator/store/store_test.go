package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"collaborate/orchestrator/mission"
	"collaborate/topics"
)

func TestReopenKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	at := time.Date(2026, 11, 26, 1, 2, 3, 0, time.UTC)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Map(); !errors.Is(err, ErrNoMap) {
		t.Fatalf("Map on empty store: %v", err)
	}
	e1, _ := s.NextEpoch()
	m, _ := mission.New("r1", []int{1, 2, 3}, e1)
	if _, err := m.Apply(e1, 0, 1, at); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		err  error
	}{
		{"mission", s.SaveMission(m)},
		{"map", s.SaveMap(&topics.FleetMap{DiameterM: 3, Scale: 0.9, Markers: []topics.MapMarker{{ID: 4, XM: 1.5}}})},
		{"latches", s.SaveLatches(Latches{FleetStopped: true, Stopped: map[string]bool{"r2": true}})},
		{"close", s.Close()},
	}
	for _, st := range steps {
		if st.err != nil {
			t.Fatalf("%s: %v", st.name, st.err)
		}
	}

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e2, _ := s.NextEpoch()
	if e2 != e1+1 {
		t.Fatalf("epoch %d after %d", e2, e1)
	}
	ms, err := s.Missions()
	if err != nil {
		t.Fatal(err)
	}
	got := ms["r1"]
	if got == nil || got.Reached != 1 || len(got.Log) != 1 || !got.Log[0].At.Equal(at) || got.Epoch != e1 {
		t.Fatalf("mission = %+v", got)
	}
	fm, err := s.Map()
	if err != nil || fm.Scale != 0.9 || len(fm.Markers) != 1 || fm.Markers[0].XM != 1.5 {
		t.Fatalf("map = %+v, %v", fm, err)
	}
	if l, err := s.Latches(); err != nil || !l.FleetStopped || !l.Stopped["r2"] || len(l.Held) != 0 {
		t.Fatalf("latches = %+v, %v", l, err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "missing", "dir", "o.db")); err == nil {
		t.Fatal("open in a missing directory succeeded")
	}
}

func BenchmarkSaveMission(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "o.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	m, _ := mission.New("r1", []int{1, 2, 3, 4, 5, 6}, 1)
	for b.Loop() {
		if err := s.SaveMission(m); err != nil {
			b.Fatal(err)
		}
	}
}
