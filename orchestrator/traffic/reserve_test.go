package traffic

import (
	"math"
	"testing"
	"time"
)

// marker is arena marker i of 12 on a 3 m arena's wall.
func marker(i int) Point {
	a := float64(i) * math.Pi / 6
	return Point{1.5 * math.Cos(a), 1.5 * math.Sin(a)}
}

// home is where a robot stands in front of marker i.
func home(i int) Point {
	m := marker(i)
	return m.scale(1.1 / 1.5)
}

func route(ms ...int) []Point {
	var out []Point
	for _, m := range ms {
		out = append(out, marker(m))
	}
	return out
}

func TestReserverOneLegPerCallAndNoCrossing(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// a: 0 -> 6 and b: 3 -> 9 cross at the centre.
	rs := []Robot{
		{ID: "a", Online: true, Pos: home(0), Route: route(6, 0)},
		{ID: "b", Online: true, Pos: home(3), Route: route(9, 3)},
	}
	p := NewReserver(ReserverConfig{})
	p.Plan(now, rs)
	na, _ := p.Released("a")
	nb, _ := p.Released("b")
	if na+nb != 1 {
		t.Fatalf("after one call released a=%d b=%d, want exactly one leg", na, nb)
	}
	p.Plan(now.Add(100*time.Millisecond), rs)
	na2, _ := p.Released("a")
	nb2, _ := p.Released("b")
	if na2+nb2 != 1 {
		t.Fatalf("crossing legs both reserved: a=%d b=%d", na2, nb2)
	}
	// The first robot reaches its stop point: its leg is freed, the other
	// may go (after the first robot's next leg, which is reserved first).
	first := 0
	if nb2 == 1 {
		first = 1
	}
	rs[first].Step = 1
	rs[first].Pos = p.stopPoint(rs[first].Pos, rs[first].Route[0])
	got := map[string]int{}
	for i := 0; i < 4; i++ {
		p.Plan(now.Add(time.Duration(i+2)*100*time.Millisecond), rs)
	}
	for _, id := range []string{"a", "b"} {
		got[id], _ = p.Released(id)
	}
	if got[rs[1-first].ID] != 1 && got[rs[first].ID] != 2 {
		t.Fatalf("after the first leg ended nobody moved on: %v", got)
	}
}

func TestReserverRefusesAnUnsafeSwap(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// a stands in front of 0 and must go to 6 and back; b stands in front
	// of 6 and must go to 0 and back: whoever goes first parks in front of
	// the other's marker, and neither could finish. Both final goals are
	// where the other must pass, so the state is unsafe: nobody gets a leg.
	rs := []Robot{
		{ID: "a", Online: true, Pos: home(0), Route: route(6)},
		{ID: "b", Online: true, Pos: home(6), Route: route(0)},
	}
	p := NewReserver(ReserverConfig{})
	for i := 0; i < 3; i++ {
		p.Plan(now, rs)
	}
	na, _ := p.Released("a")
	nb, _ := p.Released("b")
	if na != 0 || nb != 0 {
		t.Fatalf("released a=%d b=%d into a swap that cannot finish", na, nb)
	}
}

func TestReserverKeepsClearOfStandingRobots(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// c stands offline at the centre, on a's leg 0 -> 6.
	rs := []Robot{
		{ID: "a", Online: true, Pos: home(0), Route: route(6)},
		{ID: "c", Online: false, Pos: Point{0, 0}},
	}
	p := NewReserver(ReserverConfig{})
	orders := p.Plan(now, rs)
	if n, _ := p.Released("a"); n != 0 {
		t.Fatalf("a was sent through a robot standing on its leg (orders %v)", orders)
	}
	rs[1].Pos = Point{0, 1.0} // c moved away
	p.Plan(now.Add(time.Second), rs)
	if n, _ := p.Released("a"); n != 1 {
		t.Fatalf("a not released once its leg was clear: %d", n)
	}
}

func TestReserverHeadOnNeverBoth(t *testing.T) {
	p := NewReserver(ReserverConfig{})
	p.Plan(time.Now(), []Robot{{ID: "a", Online: true}, {ID: "b", Online: true}})
	back, wait := p.HeadOn(time.Now(), "a", "b")
	if back == wait || back == "" || wait == "" {
		t.Fatalf("HeadOn = %q, %q", back, wait)
	}
	if b, w := p.HeadOn(time.Now(), "a", "a"); b != "" || w != "" {
		t.Fatalf("HeadOn(a, a) = %q, %q, want a rejection", b, w)
	}
}
