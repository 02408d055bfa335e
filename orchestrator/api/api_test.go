package api

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"collaborate/orchestrator/core"
	"collaborate/orchestrator/mission"
	"collaborate/orchestrator/store"
	"collaborate/topics"
)

var t0 = time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)

type fixture struct {
	srv  *httptest.Server
	r    *core.Runner
	mu   sync.Mutex
	outs []core.Out
}

func (f *fixture) published() []core.Out {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]core.Out(nil), f.outs...)
}

// newFixture serves the API over a real core; withMap stores a 12-marker map.
func newFixture(t *testing.T, withMap bool) *fixture {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "o.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if withMap {
		m := &topics.FleetMap{Header: topics.Stamp(core.Sender, 1, t0), DiameterM: 3, MeasuredDiameterM: 3, Scale: 1}
		for i := 0; i < 12; i++ {
			a := 2 * math.Pi * float64(i) / 12
			m.Markers = append(m.Markers, topics.MapMarker{ID: i, XM: 1.5 * math.Cos(a), YM: 1.5 * math.Sin(a)})
		}
		if err := st.SaveMap(m); err != nil {
			t.Fatal(err)
		}
	}
	mf, err := mission.Parse([]byte("arena: {diameter_m: 3}\nrobots:\n  r1: {route: [0, 6]}\n  r2: {route: [3]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := core.New(core.Config{Missions: mf}, st)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{}
	f.r = core.NewRunner(c, func(o core.Out) {
		f.mu.Lock()
		f.outs = append(f.outs, o)
		f.mu.Unlock()
	}, func() time.Time { return t0 })
	mux := http.NewServeMux()
	Register(mux, f.r)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) online(t *testing.T, id string) {
	t.Helper()
	b, err := topics.Encode(&topics.Status{Header: topics.Stamp(id, 1, t0), State: topics.StateIdle})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.r.Deliver(topics.Robot(id, topics.KindStatus), b); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) do(t *testing.T, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: content type %q", method, path, ct)
	}
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %v", method, path, err)
	}
	return resp.StatusCode, v
}

func TestEndpoints(t *testing.T) {
	f := newFixture(t, true)
	f.online(t, "r1")
	tests := []struct {
		name, method, path, body string
		code                     int
		check                    func(t *testing.T, v map[string]any)
	}{
		{"fleet", "GET", "/api/fleet", "", 200, func(t *testing.T, v map[string]any) {
			rs := v["robots"].([]any)
			if len(rs) != 2 || rs[0].(map[string]any)["id"] != "r1" || rs[0].(map[string]any)["online"] != true {
				t.Fatalf("robots %v", rs)
			}
		}},
		{"map", "GET", "/api/map", "", 200, func(t *testing.T, v map[string]any) {
			if len(v["markers"].([]any)) != 12 || v["scale"].(float64) != 1 {
				t.Fatalf("map %v", v)
			}
		}},
		{"put mission", "PUT", "/api/missions/r1", `{"route": [4, 5]}`, 200, func(t *testing.T, v map[string]any) {
			if v["robot"] != "r1" || len(v["route"].([]any)) != 2 {
				t.Fatalf("reply %v", v)
			}
		}},
		{"hold", "POST", "/api/robots/r1/hold", "", 200, nil},
		{"stop", "POST", "/api/robots/r1/stop", "", 200, nil},
		{"resume", "POST", "/api/robots/r1/resume", "", 200, nil},
		{"fleet stop", "POST", "/api/fleet/stop", "", 200, nil},
		{"fleet resume", "POST", "/api/fleet/resume", "", 200, nil},
		{"sweep by r1", "POST", "/api/map/sweep", `{"robot": "r1"}`, 202, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, v := f.do(t, tc.method, tc.path, tc.body)
			if code != tc.code {
				t.Fatalf("code %d, want %d: %v", code, tc.code, v)
			}
			if tc.check != nil {
				tc.check(t, v)
			}
		})
	}
	// What the operator asked reached the robot, in order.
	var kinds []string
	for _, o := range f.published() {
		switch p := o.Payload.(type) {
		case *topics.Directive:
			kinds = append(kinds, p.Kind)
		case *topics.FleetCommand:
			kinds = append(kinds, "fleet_"+p.Kind)
		}
	}
	want := "route resume route hold stop resume fleet_stop fleet_resume map"
	if got := strings.Join(kinds, " "); got != want {
		t.Fatalf("published %q, want %q", got, want)
	}
	if v := f.r.Fleet(); v.Mapper != "r1" || !v.HasMap {
		t.Fatalf("fleet after sweep %+v", v)
	}
}

func TestErrors(t *testing.T) {
	f := newFixture(t, true)
	noMap := newFixture(t, false)
	big := `{"route": [` + strings.Repeat("1,", MaxBody) + `1]}`
	tests := []struct {
		name, method, path, body string
		f                        *fixture
		code                     int
		msg                      string
	}{
		{"no map", "GET", "/api/map", "", noMap, 404, "no map yet"},
		{"unknown robot mission", "PUT", "/api/missions/ghost", `{"route": [1]}`, f, 404, "unknown robot"},
		{"bad robot id", "PUT", "/api/missions/a.b", `{"route": [1]}`, f, 400, "robot id"},
		{"marker not on map", "PUT", "/api/missions/r1", `{"route": [1, 42]}`, f, 422, "marker not on the map: route[1] = 42"},
		{"empty route", "PUT", "/api/missions/r1", `{"route": []}`, f, 400, "empty route"},
		{"missing route", "PUT", "/api/missions/r1", `{}`, f, 400, "empty route"},
		{"negative marker", "PUT", "/api/missions/r1", `{"route": [-1]}`, f, 400, "marker ids are >= 0"},
		{"malformed JSON", "PUT", "/api/missions/r1", `{"route": [1,`, f, 400, "malformed JSON"},
		{"wrong type", "PUT", "/api/missions/r1", `{"route": "1"}`, f, 400, "malformed JSON"},
		{"unknown field", "PUT", "/api/missions/r1", `{"rout": [1]}`, f, 400, "unknown field"},
		{"trailing data", "PUT", "/api/missions/r1", `{"route": [1]} {}`, f, 400, "data after"},
		{"empty body", "PUT", "/api/missions/r1", ``, f, 400, "malformed JSON"},
		{"oversize body", "PUT", "/api/missions/r1", big, f, 413, "body over"},
		{"wrong method", "POST", "/api/fleet", "", f, 405, "use GET"},
		{"wrong method mission", "GET", "/api/missions/r1", "", f, 405, "use PUT"},
		{"unknown action", "POST", "/api/robots/r1/dance", "", f, 404, "unknown robot action"},
		{"hold unknown robot", "POST", "/api/robots/ghost/hold", "", f, 404, "unknown robot"},
		{"resume unknown robot", "POST", "/api/robots/ghost/resume", "", f, 404, "unknown robot"},
		{"stop bad id", "POST", "/api/robots/a*b/stop", "", f, 400, "robot id"},
		{"unknown path", "GET", "/api/nothing", "", f, 404, "no API endpoint"},
		{"sweep nobody online", "POST", "/api/map/sweep", "", f, 409, "no robot online"},
		{"sweep robot offline", "POST", "/api/map/sweep", `{"robot": "r2"}`, f, 409, "not online"},
		{"sweep unknown robot", "POST", "/api/map/sweep", `{"robot": "ghost"}`, f, 404, "unknown robot"},
		{"sweep bad id", "POST", "/api/map/sweep", `{"robot": "a b"}`, f, 400, "robot id"},
		{"sweep malformed", "POST", "/api/map/sweep", `{"robot":`, f, 400, "malformed JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, v := tc.f.do(t, tc.method, tc.path, tc.body)
			msg, _ := v["error"].(string)
			if code != tc.code || !strings.Contains(msg, tc.msg) {
				t.Fatalf("got %d %q, want %d containing %q", code, msg, tc.code, tc.msg)
			}
		})
	}
	// Conflicts while sweeping and while the fleet is stopped.
	f.online(t, "r1")
	if code, v := f.do(t, "POST", "/api/map/sweep", ""); code != 202 {
		t.Fatalf("sweep: %d %v", code, v)
	}
	if code, v := f.do(t, "POST", "/api/map/sweep", ""); code != 409 || !strings.Contains(v["error"].(string), "sweeping now") {
		t.Fatalf("second sweep: %d %v", code, v)
	}
	if got := f.r.Stats().Rejected; got != 0 {
		t.Fatalf("operator errors counted as rejected messages: %d", got)
	}
}

func TestRunnerDeliverRejects(t *testing.T) {
	f := newFixture(t, true)
	tests := []struct {
		name, topic, payload string
	}{
		{"bad topic", "robots/r1/nope", "{}"},
		{"bad json", "robots/r1/pose", "{"},
		{"wrong sender", "robots/r1/status", `{"v":1,"sender":"r2","seq":1,"ts":"2026-11-26T23:00:00Z","state":"idle"}`},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := f.r.Deliver(tc.topic, []byte(tc.payload)); err == nil {
				t.Fatal("accepted")
			}
			if got := f.r.Stats().Rejected; got != i+1 {
				t.Fatalf("rejected = %d, want %d", got, i+1)
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	f := newFixture(t, true)
	f.online(t, "r1")
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(3)
		go func() { defer wg.Done(); f.r.Tick() }()
		go func() { defer wg.Done(); f.do(t, "GET", "/api/fleet", "") }()
		go func() { defer wg.Done(); f.do(t, "POST", "/api/robots/r1/hold", "") }()
	}
	wg.Wait()
	seq := uint64(0)
	for _, o := range f.published() {
		h := topics.HeaderOf(o.Payload)
		if h.Seq <= seq {
			t.Fatalf("published seq %d after %d", h.Seq, seq)
		}
		seq = h.Seq
	}
}
