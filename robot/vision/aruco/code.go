package aruco

import "fmt"

//go:generate go run -tags opencv ./internal/gencodes -o codes_gen.go

// Code is a marker's pattern inside its black border: N×N cells.
type Code struct {
	N int
	// Bits has bit r*N+c set when the cell in row r (from the marker's top)
	// and column c (from its left) is white.
	Bits uint64
}

// White reports whether the cell in row r, column c is white.
func (c Code) White(r, col int) bool { return c.Bits>>(r*c.N+col)&1 == 1 }

// family is the patterns a dictionary takes its markers from: OpenCV's
// predefined dictionaries of one size share one list, the smaller ones
// being its first 50, 100 or 250 entries (the generator checks this).
type family struct {
	n     int
	codes []uint64
}

func (d Dictionary) family() (family, bool) {
	switch d {
	case Dict4X4_50, Dict4X4_100, Dict4X4_250, Dict4X4_1000:
		return family{4, codes4X4[:]}, true
	case Dict5X5_50, Dict5X5_100, Dict5X5_250, Dict5X5_1000:
		return family{5, codes5X5[:]}, true
	case Dict6X6_50, Dict6X6_100, Dict6X6_250, Dict6X6_1000:
		return family{6, codes6X6[:]}, true
	case Dict7X7_50, Dict7X7_100, Dict7X7_250, Dict7X7_1000:
		return family{7, codes7X7[:]}, true
	case DictArucoOriginal:
		return family{5, codesArucoOriginal[:]}, true
	case DictAprilTag16h5:
		return family{4, codesAprilTag16h5[:]}, true
	case DictAprilTag25h9:
		return family{5, codesAprilTag25h9[:]}, true
	case DictAprilTag36h10:
		return family{6, codesAprilTag36h10[:]}, true
	case DictAprilTag36h11:
		return family{6, codesAprilTag36h11[:]}, true
	}
	return family{}, false
}

// Bits is the number of cells along a marker's side inside its border (4
// for DICT_4X4_*), or 0 for an unknown dictionary.
func (d Dictionary) Bits() int {
	f, _ := d.family()
	return f.n
}

// Code returns marker id's pattern, as cv::aruco::drawMarker draws it. It
// needs no OpenCV: the patterns are Go data taken from OpenCV 4.6 by
// `go generate` (codes_gen.go).
func (d Dictionary) Code(id int) (Code, error) {
	f, ok := d.family()
	if !ok {
		return Code{}, fmt.Errorf("aruco: unknown dictionary %d", int(d))
	}
	if id < 0 || id >= d.Size() {
		return Code{}, fmt.Errorf("aruco: marker id %d outside %v (0..%d)", id, d, d.Size()-1)
	}
	return Code{N: f.n, Bits: f.codes[id]}, nil
}
