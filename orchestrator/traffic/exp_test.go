package traffic

import "testing"

func TestExpN(t *testing.T) {
	for _, n := range []int{2, 3} {
		simN, simNSpan = n, 1
		t.Run("n", TestSimCampaign)
	}
	simN, simNSpan = 4, 5
}
