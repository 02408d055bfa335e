package fleet

import (
	"testing"
	"time"

	"collaborate/topics"
)

func TestPresence(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	st := func(state string) *topics.Status { return &topics.Status{State: state} }
	type step struct {
		at     time.Duration
		do     func(r *Registry, now time.Time) Change
		want   Change
		online bool
		reason string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"status brings online", []step{
			{0, func(r *Registry, n time.Time) Change { return r.Status(n, "a", st(topics.StateIdle)) }, CameOnline, true, ""},
			{time.Second, func(r *Registry, n time.Time) Change { return r.Status(n, "a", st(topics.StateMoving)) }, Same, true, ""},
		}},
		{"will takes offline", []step{
			{0, func(r *Registry, n time.Time) Change { return r.Status(n, "a", st(topics.StateIdle)) }, CameOnline, true, ""},
			{time.Second, func(r *Registry, n time.Time) Change { return r.Status(n, "a", st(topics.StateOffline)) }, WentOffline, false, ByWill},
			{2 * time.Second, func(r *Registry, n time.Time) Change { return r.Pose(n, "a", &topics.Pose{State: topics.StateIdle}) }, CameOnline, true, ""},
		}},
		{"retained will of unknown robot", []step{
			{0, func(r *Registry, n time.Time) Change { return r.Status(n, "a", st(topics.StateOffline)) }, Same, false, ByWill},
		}},
		{"silence takes offline", []step{
			{0, func(r *Registry, n time.Time) Change { return r.Seen(n, "a") }, CameOnline, true, ""},
			{3 * time.Second, func(r *Registry, n time.Time) Change {
				if len(r.Expire(n, 3*time.Second)) != 0 {
					return WentOffline
				}
				return Same
			}, Same, true, ""},
			{3*time.Second + time.Millisecond, func(r *Registry, n time.Time) Change {
				if ids := r.Expire(n, 3*time.Second); len(ids) == 1 && ids[0] == "a" {
					return WentOffline
				}
				return Same
			}, WentOffline, false, BySilence},
			{4 * time.Second, func(r *Registry, n time.Time) Change { return r.Checkpoint(n, "a", 3) }, CameOnline, true, ""},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := New()
			for i, s := range tc.steps {
				if got := s.do(r, t0.Add(s.at)); got != s.want {
					t.Fatalf("step %d: change = %v, want %v", i, got, s.want)
				}
				rb, ok := r.Get("a")
				if !ok || rb.Online != s.online || rb.OfflineReason != s.reason {
					t.Fatalf("step %d: robot = %+v", i, rb)
				}
			}
		})
	}
}

func TestRosterAndPosition(t *testing.T) {
	r := New()
	now := time.Unix(0, 0)
	r.Status(now, "b", &topics.Status{State: "idle", Faces: &topics.FaceIDs{Front: 104, Left: 105, Back: 106, Right: 107}})
	r.Status(now, "a", &topics.Status{State: "idle", Faces: &topics.FaceIDs{Front: 100, Left: 101, Back: 102, Right: 103}})
	r.Status(now, "c", &topics.Status{State: "idle"})
	ro := r.Roster()
	if len(ro) != 2 || ro[0].Robot != "a" || ro[1].Faces.Front != 104 {
		t.Fatalf("roster = %+v", ro)
	}
	rb, _ := r.Get("c")
	if _, _, ok := rb.Position(); ok {
		t.Fatal("position without pose")
	}
	x, y := 1.5, -2.0
	r.Pose(now, "c", &topics.Pose{State: "moving", XM: &x, YM: &y})
	if px, py, ok := rb.Position(); !ok || px != x || py != y {
		t.Fatalf("position = %v %v %v", px, py, ok)
	}
	if ids := r.IDs(); len(ids) != 3 || ids[0] != "a" || ids[2] != "c" {
		t.Fatalf("ids = %v", ids)
	}
}
