package render

import "math/rand/v2"

// gaussBits sets the size of the table of standard normal deviates the
// sensor noise draws from: a table lookup by a xorshift generator costs
// about a nanosecond a pixel, where rand.NormFloat64 costs several.
const gaussBits = 16

var gauss = func() []float32 {
	g := make([]float32, 1<<gaussBits)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range g {
		g[i] = float32(rng.NormFloat64())
	}
	return g
}()
