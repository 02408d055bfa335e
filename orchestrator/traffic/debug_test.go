package traffic

import (
	"math/rand"
	"testing"
)

func TestDebugSeed(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	specs := randomFleet(rng, 4+rng.Intn(5), 6)
	for _, s := range specs {
		t.Logf("%s start %.2f route %v", s.id, s.start, s.route)
	}
	cfg := DefaultConfig()
	cfg.PeriodS = simDtS
	simTrace = func(ts float64, o Order) { t.Logf("%.2f %+v", ts, o) }
	defer func() { simTrace = nil }()
	simPos = func(ts float64, in []Robot) {
		if false {
			t.Logf("%.2f r01 %.3f rem %.3f  r02 %.3f rem %.3f d=%.3f", ts, in[1].Pos, in[1].RemainingM, in[2].Pos, in[2].RemainingM, in[1].Pos.dist(in[2].Pos))
		}
	}
	defer func() { simPos = nil }()
	res := runSim(cfg, specs, nil, true, 200)
	t.Logf("%+v", res.unfinished)
}
