package traffic

import (
	"math/rand"
	"testing"
)

func TestExp2(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PeriodS = simDtS
	for seed := 1; seed <= 40; seed++ {
		rng := rand.New(rand.NewSource(int64(seed)))
		specs := randomFleet(rng, 2+rng.Intn(1), 6)
		res := runSim(cfg, specs, nil, true, 300)
		if len(res.unfinished) == 0 {
			continue
		}
		for _, s := range specs {
			t.Logf("%s start %.2f route %.2f", s.id, s.start, s.route)
		}
		simTrace = func(ts float64, o Order) { t.Logf("%.2f %+v", ts, o) }
		last := 0.0
		simPos = func(ts float64, in []Robot) {
			if ts-last >= 2 {
				last = ts
				t.Logf("%.2f %s %.2f rem %.2f | %s %.2f rem %.2f", ts, in[0].ID, in[0].Pos, in[0].RemainingM, in[1].ID, in[1].Pos, in[1].RemainingM)
			}
		}
		runSim(cfg, specs, nil, true, 60)
		simTrace, simPos = nil, nil
		return
	}
}
