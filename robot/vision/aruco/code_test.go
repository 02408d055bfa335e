package aruco

import (
	"math/bits"
	"testing"
)

func TestCode(t *testing.T) {
	tests := []struct {
		dict    Dictionary
		id      int
		n       int
		wantErr bool
	}{
		{Dict4X4_50, 0, 4, false},
		{Dict4X4_250, 249, 4, false},
		{Dict4X4_250, 250, 0, true},
		{Dict5X5_100, 7, 5, false},
		{Dict6X6_250, 23, 6, false},
		{Dict7X7_1000, 999, 7, false},
		{DictArucoOriginal, 1023, 5, false},
		{DictAprilTag16h5, 29, 4, false},
		{DictAprilTag36h11, 586, 6, false},
		{DictAprilTag36h11, -1, 0, true},
		{Dictionary(99), 0, 0, true},
	}
	for _, tc := range tests {
		c, err := tc.dict.Code(tc.id)
		if (err != nil) != tc.wantErr {
			t.Errorf("%v.Code(%d) err = %v, wantErr %v", tc.dict, tc.id, err, tc.wantErr)
			continue
		}
		if err == nil && (c.N != tc.n || bits.Len64(c.Bits) > tc.n*tc.n) {
			t.Errorf("%v.Code(%d) = %+v, want %d×%d cells", tc.dict, tc.id, c, tc.n, tc.n)
		}
	}
}

// TestCodesDistinctUnderRotation checks a property every ArUco dictionary
// has by construction: no marker equals another, or itself, turned by a
// quarter, half or three quarters. A table read wrongly (rows for columns,
// bits shifted) would rarely keep it.
func TestCodesDistinctUnderRotation(t *testing.T) {
	for _, d := range []Dictionary{Dict4X4_1000, Dict5X5_1000, Dict6X6_1000, Dict7X7_1000, DictAprilTag36h11} {
		seen := map[uint64]int{}
		for id := 0; id < d.Size(); id++ {
			c, _ := d.Code(id)
			r := c
			for turn := 0; turn < 4; turn++ {
				if other, ok := seen[r.Bits]; ok {
					t.Fatalf("%v: id %d turned %d times equals id %d", d, id, turn, other)
				}
				r = rotate(r)
			}
			r = c
			for turn := 0; turn < 4; turn++ {
				seen[r.Bits] = id
				r = rotate(r)
			}
		}
	}
}

// rotate turns c a quarter clockwise.
func rotate(c Code) Code {
	out := Code{N: c.N}
	for r := 0; r < c.N; r++ {
		for col := 0; col < c.N; col++ {
			if c.White(r, col) {
				out.Bits |= 1 << (col*c.N + (c.N - 1 - r))
			}
		}
	}
	return out
}
