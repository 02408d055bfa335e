package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"collaborate/orchestrator/core"
	"collaborate/orchestrator/web"
	"collaborate/topics"
)

// staticSource is a fleet that changes only when told.
type staticSource struct{ v core.FleetView }

func (s *staticSource) Fleet() core.FleetView { return s.v }
func (s *staticSource) Map() *topics.FleetMap { return nil }

func encode(t testing.TB, m topics.Message) []byte {
	b, err := topics.Encode(m)
	if err != nil {
		panic(fmt.Sprintf("encode %T: %v", m, err))
	}
	return b
}

func f64(v float64) *float64 { return &v }

var t0 = time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)

func pose(t testing.TB, id string, seq uint64, x, th float64) []byte {
	return encode(t, &topics.Pose{Header: topics.Stamp(id, seq, t0), State: topics.StateMoving,
		XM: f64(x), YM: f64(0), ThetaRad: f64(th), SpeedMps: 0.2})
}

func TestNotify(t *testing.T) {
	h := web.NewHub(&staticSource{}, web.HubOptions{LogSize: 3, Checkpoints: 2})
	tests := []struct {
		name    string
		topic   string
		payload []byte
		check   func(s web.Snapshot) string
	}{
		{"pose keeps heading and speed", "robots/r1/pose", pose(t, "r1", 1, 0.5, 1.25), func(s web.Snapshot) string {
			p, ok := s.Poses["r1"]
			if !ok || p.ThetaRad == nil || *p.ThetaRad != 1.25 || p.SpeedMps != 0.2 || *p.XM != 0.5 {
				return "pose of r1 not kept"
			}
			return ""
		}},
		{"bad payload ignored", "robots/r1/pose", []byte(`{"v":1,"sender":"r2"}`), func(s web.Snapshot) string {
			if *s.Poses["r1"].XM != 0.5 {
				return "a rejected pose changed the snapshot"
			}
			return ""
		}},
		{"sender must match topic", "robots/r2/pose", pose(t, "r1", 2, 0.9, 0), func(s web.Snapshot) string {
			if _, ok := s.Poses["r2"]; ok {
				return "r2 got r1's pose"
			}
			return ""
		}},
		{"checkpoint logged", "robots/r1/checkpoint", encode(t, &topics.Checkpoint{Header: topics.Stamp("r1", 3, t0), Epoch: 1, Marker: 6, Step: 1}),
			func(s web.Snapshot) string {
				if len(s.Checkpoints) != 1 || *s.Checkpoints[0].Marker != 6 || s.Log[len(s.Log)-1].Kind != "checkpoint" {
					return "checkpoint missing"
				}
				return ""
			}},
		{"world kept", "sim/world", encode(t, &topics.World{Header: topics.Stamp("sim", 4, t0), DiameterM: 3, Collisions: 2,
			Robots: []topics.TruePose{{Robot: "r1", XM: 0.51}}}), func(s web.Snapshot) string {
			if s.World == nil || s.World.Collisions != 2 || s.World.Robots[0].XM != 0.51 {
				return "world missing"
			}
			return ""
		}},
		{"directive logged", "robots/r1/cmd", encode(t, &topics.Directive{Header: topics.Stamp(core.Sender, 5, t0), Epoch: 1, Kind: topics.DirHold, Reason: "operator"}),
			func(s web.Snapshot) string {
				if e := s.Log[len(s.Log)-1]; e.Kind != "cmd:hold" || e.Robot != "r1" || e.Detail != "operator" {
					return "directive not logged"
				}
				return ""
			}},
		{"log bounded", "robots/r1/events", encode(t, &topics.Event{Header: topics.Stamp("r1", 6, t0), Kind: topics.EventYield, Other: "r2"}),
			func(s web.Snapshot) string {
				if len(s.Log) != 3 || s.Log[2].Kind != "yield" || s.Log[2].Other != "r2" {
					return "log not bounded to 3 with the newest last"
				}
				return ""
			}},
		{"orchestrator status", "orchestrator/status", encode(t, &topics.OrchestratorState{Header: topics.Stamp(core.Sender, 7, t0), State: topics.OrchOnline, Epoch: 9}),
			func(s web.Snapshot) string {
				if s.Orchestrator == nil || s.Orchestrator.Epoch != 9 {
					return "orchestrator status missing"
				}
				return ""
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.Notify(tc.topic, tc.payload)
			if msg := tc.check(h.Snapshot()); msg != "" {
				t.Error(msg)
			}
		})
	}
}

// TestCoalesce runs the hub on a fake clock: a burst is pushed at once,
// the rest of the burst once Coalesce has passed, and nothing unchanged.
func TestCoalesce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := web.NewHub(&staticSource{}, web.HubOptions{Coalesce: 50 * time.Millisecond, Refresh: time.Hour})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go h.Run(ctx)
		// Nobody watching: nothing is encoded.
		h.Notify("robots/r1/pose", pose(t, "r1", 1, 0.05, 0))
		synctest.Wait()
		if n := h.Pushes(); n != 0 {
			t.Fatalf("no dashboard open: %d pushes, want none", n)
		}
		watch(ctx, h)
		time.Sleep(time.Second) // past Coalesce since the last kick
		synctest.Wait()
		h.Notify("robots/r1/pose", pose(t, "r1", 1, 0.1, 0))
		synctest.Wait()
		if n := h.Pushes(); n != 1 {
			t.Fatalf("first message: %d pushes, want 1 at once", n)
		}
		for i := range 10 {
			h.Notify("robots/r1/pose", pose(t, "r1", uint64(i+2), 0.2+float64(i)/100, 0))
		}
		synctest.Wait()
		if n := h.Pushes(); n != 1 {
			t.Fatalf("burst within 50 ms: %d pushes, want still 1", n)
		}
		time.Sleep(50 * time.Millisecond)
		synctest.Wait()
		if n := h.Pushes(); n != 2 {
			t.Fatalf("after 50 ms: %d pushes, want 2 (the burst coalesced)", n)
		}
		if x := *h.Snapshot().Poses["r1"].XM; math.Abs(x-0.29) > 1e-9 {
			t.Errorf("snapshot x %v, want the burst's last 0.29", x)
		}
		time.Sleep(time.Second)
		h.Changed()
		synctest.Wait()
		if n := h.Pushes(); n != 2 {
			t.Errorf("nothing changed: %d pushes, want 2", n)
		}
	})
}

// watch opens the hub's event stream, as a dashboard would, until ctx
// ends; it returns once the hub counts it.
func watch(ctx context.Context, h *web.Hub) {
	n := h.Clients()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/events", nil)
	go h.ServeHTTP(httptest.NewRecorder(), req)
	for h.Clients() == n {
		time.Sleep(time.Millisecond)
	}
}

// TestEvents reads the event stream: a snapshot at once, and one after a
// message.
func TestEvents(t *testing.T) {
	h := web.NewHub(&staticSource{v: core.FleetView{Epoch: 3, Robots: []core.RobotView{{ID: "r1", Online: true}}}}, web.HubOptions{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go h.Run(ctx)
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /events: %v", err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	rd := bufio.NewReader(resp.Body)
	next := func() web.Snapshot {
		t.Helper()
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				t.Fatalf("read stream: %v", err)
			}
			if d, ok := strings.CutPrefix(line, "data: "); ok {
				var s web.Snapshot
				if err := json.Unmarshal([]byte(d), &s); err != nil {
					t.Fatalf("snapshot: %v", err)
				}
				return s
			}
		}
	}
	if s := next(); s.Fleet.Epoch != 3 || len(s.Fleet.Robots) != 1 {
		t.Fatalf("first snapshot %+v", s.Fleet)
	}
	h.Notify("robots/r1/pose", pose(t, "r1", 1, 0.7, 0))
	for {
		s := next()
		if p, ok := s.Poses["r1"]; ok {
			if *p.XM != 0.7 {
				t.Fatalf("pose x %v, want 0.7", *p.XM)
			}
			break
		}
	}
	if n := h.Clients(); n != 1 {
		t.Errorf("%d clients, want 1", n)
	}
}

func TestEventsLimits(t *testing.T) {
	h := web.NewHub(&staticSource{}, web.HubOptions{MaxClients: 1})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go h.Run(ctx)
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	first, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("first: %v", err)
	}
	defer first.Body.Close()
	tests := []struct {
		name   string
		method string
		want   int
	}{
		{"second browser refused", http.MethodGet, http.StatusServiceUnavailable},
		{"POST refused", http.MethodPost, http.StatusMethodNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(ctx, tc.method, srv.URL, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e web.Error
			if resp.StatusCode != tc.want || json.NewDecoder(resp.Body).Decode(&e) != nil || e.Error == "" {
				t.Errorf("status %d error %q, want %d with a JSON error", resp.StatusCode, e.Error, tc.want)
			}
		})
	}
}

func BenchmarkNotifyPose(b *testing.B) {
	h := web.NewHub(&staticSource{}, web.HubOptions{})
	p, _ := topics.Encode(&topics.Pose{Header: topics.Stamp("r1", 1, t0), State: topics.StateMoving, XM: f64(1), YM: f64(0), ThetaRad: f64(0)})
	b.ReportAllocs()
	for b.Loop() {
		h.Notify("robots/r1/pose", p)
	}
}

func BenchmarkSnapshotEncode(b *testing.B) {
	src := &staticSource{}
	for _, id := range []string{"r1", "r2", "r3", "r4"} {
		src.v.Robots = append(src.v.Robots, core.RobotView{ID: id, Online: true, State: "moving", Route: []int{1, 2, 3}, XM: f64(1), YM: f64(1)})
	}
	h := web.NewHub(src, web.HubOptions{})
	for i := range 60 {
		p, _ := topics.Encode(&topics.Event{Header: topics.Stamp("r1", uint64(i+1), t0), Kind: topics.EventYield, Other: "r2"})
		h.Notify("robots/r1/events", p)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(h.Snapshot()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNotifyToBrowser measures one message from Notify to its
// snapshot read off /events, back to back: each push follows the last one
// at once, so this is the coalescing worst case (≤ Coalesce + encoding).
func BenchmarkNotifyToBrowser(b *testing.B) {
	src := &staticSource{}
	for _, id := range []string{"r1", "r2", "r3", "r4"} {
		src.v.Robots = append(src.v.Robots, core.RobotView{ID: id, Online: true, State: "moving", Route: []int{1, 2, 3}, XM: f64(1), YM: f64(1)})
	}
	h := web.NewHub(src, web.HubOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.Run(ctx)
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	xs := make(chan float64, 16)
	go func() {
		rd := bufio.NewReaderSize(resp.Body, 1<<16)
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return
			}
			if d, ok := strings.CutPrefix(line, "data: "); ok {
				var s web.Snapshot
				if json.Unmarshal([]byte(d), &s) == nil {
					if p, ok := s.Poses["r1"]; ok && p.XM != nil {
						xs <- *p.XM
					}
				}
			}
		}
	}()
	var worst time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		x := float64(i + 1)
		start := time.Now()
		h.Notify("robots/r1/pose", pose(nil, "r1", uint64(i+1), x, 0))
		for got := range xs {
			if got == x {
				break
			}
		}
		worst = max(worst, time.Since(start))
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
}
