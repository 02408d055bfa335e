package core

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"collaborate/orchestrator/mission"
	"collaborate/orchestrator/store"
	"collaborate/topics"
)

// benchCore is a core with a map of n markers and n online robots, each
// with a mission ending at its own marker (final goals must differ).
func benchCore(b *testing.B, n int) (*Core, []string) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "o.db")
	st, err := store.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	m := ring(3*float64(n)/12, n)
	m.Header = topics.Stamp(Sender, 1, t0)
	if err := st.SaveMap(m); err != nil {
		b.Fatal(err)
	}
	var y strings.Builder
	y.WriteString("arena: {diameter_m: 3}\nrobots:\n")
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("r%d", i)
		fmt.Fprintf(&y, "  %s: {route: [%d, %d, %d]}\n", ids[i], (i+n/3)%n, (i+2*n/3)%n, i)
	}
	f, err := mission.Parse([]byte(y.String()))
	if err != nil {
		b.Fatal(err)
	}
	c, err := New(Config{Missions: f, Planner: NoTraffic{}}, st)
	if err != nil {
		b.Fatal(err)
	}
	for _, id := range ids {
		if _, err := c.Handle(t0, topics.Topic{Robot: id, Kind: topics.KindStatus},
			&topics.Status{Header: topics.Stamp(id, 1, t0), State: topics.StateIdle}); err != nil {
			b.Fatal(err)
		}
	}
	return c, ids
}

// BenchmarkHandlePose is the core's pose ingest rate with 500 robots.
func BenchmarkHandlePose(b *testing.B) {
	c, ids := benchCore(b, 500)
	poses := make([]*topics.Pose, len(ids))
	for i, id := range ids {
		x, y, d, tgt := 0.1, 0.2, 0.8, (i+len(ids)/3)%len(ids)
		poses[i] = &topics.Pose{Header: topics.Stamp(id, 2, t0), State: topics.StateMoving, XM: &x, YM: &y, DistanceM: &d, Target: &tgt}
	}
	now := t0
	i := 0
	for b.Loop() {
		k := i % len(ids)
		if _, err := c.Handle(now, topics.Topic{Robot: ids[k], Kind: topics.KindPose}, poses[k]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "poses/s")
}

// BenchmarkTick is one control tick with 500 robots (planner excluded).
func BenchmarkTick(b *testing.B) {
	c, _ := benchCore(b, 500)
	now := t0
	for b.Loop() {
		now = now.Add(time.Millisecond)
		c.Tick(now)
	}
}
