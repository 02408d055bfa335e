//go:build opencv

package aruco

import (
	"image"
	"testing"

	"gocv.io/x/gocv"
)

// TestDrawThenDetect renders markers on a white quiet zone and checks that the
// bridge finds each id at the corners where it was drawn.
func TestDrawThenDetect(t *testing.T) {
	tests := []struct {
		dict Dictionary
		id   int
	}{
		{Dict4X4_250, 0},
		{Dict4X4_250, 49},
		{Dict4X4_250, 100},
		{Dict4X4_250, 249},
		{Dict6X6_250, 23},
		{Dict5X5_100, 7},
	}
	for _, tc := range tests {
		t.Run(tc.dict.String(), func(t *testing.T) {
			m, err := DrawMarker(tc.dict, tc.id, 120, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			frame := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(255, 0, 0, 0), 240, 320, gocv.MatTypeCV8UC1)
			defer frame.Close()
			roi := frame.Region(image.Rect(100, 60, 220, 180))
			m.CopyTo(&roi)
			roi.Close()

			d, err := NewDetector(tc.dict, RefineSubpix)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			got, err := d.Detect(frame)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].ID != tc.id {
				t.Fatalf("detected %+v, want one marker id %d", got, tc.id)
			}
			want := [4][2]float64{{100, 60}, {220, 60}, {220, 180}, {100, 180}}
			for k := range want {
				for a := 0; a < 2; a++ {
					// The outer corner is at the pixel edge; allow a pixel.
					if diff := got[0].Corners[k][a] - want[k][a]; diff > 1.5 || diff < -1.5 {
						t.Errorf("corner %d = %v, want %v", k, got[0].Corners[k], want[k])
					}
				}
			}
			n, err := d.DetectBare(frame)
			if err != nil || n != 1 {
				t.Fatalf("DetectBare = %d, %v; want 1", n, err)
			}
		})
	}
}

func TestRejectsBadInput(t *testing.T) {
	d, err := NewDetector(Dict4X4_250, RefineNone)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	empty := gocv.NewMat()
	defer empty.Close()
	float := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0.5, 0, 0, 0), 10, 10, gocv.MatTypeCV32F)
	defer float.Close()

	tests := []struct {
		name string
		run  func() error
	}{
		{"empty image", func() error { _, err := d.Detect(empty); return err }},
		{"float image", func() error { _, err := d.Detect(float); return err }},
		{"unknown dictionary", func() error { _, err := NewDetector(Dictionary(99), RefineNone); return err }},
		{"unknown refinement", func() error { _, err := NewDetector(Dict4X4_50, CornerRefine(9)); return err }},
		{"id outside dictionary", func() error {
			m, err := DrawMarker(Dict4X4_50, 50, 60, 1)
			m.Close()
			return err
		}},
		{"zero side", func() error {
			m, err := DrawMarker(Dict4X4_50, 1, 0, 1)
			m.Close()
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestClosedDetector(t *testing.T) {
	d, err := NewDetector(Dict4X4_250, RefineNone)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	d.Close()
	img := gocv.NewMatWithSize(10, 10, gocv.MatTypeCV8UC1)
	defer img.Close()
	if _, err := d.Detect(img); err == nil {
		t.Fatal("Detect on a closed detector: no error")
	}
}

// TestCodesMatchOpenCV checks the Go patterns (codes_gen.go) against
// cv::aruco::drawMarker for every marker of every predefined dictionary:
// the renderer draws from them, so a stale table would show markers
// OpenCV does not know.
func TestCodesMatchOpenCV(t *testing.T) {
	for _, name := range DictionaryNames() {
		d, _ := ParseDictionary(name)
		t.Run(name, func(t *testing.T) {
			n := d.Bits()
			for id := 0; id < d.Size(); id++ {
				c, err := d.Code(id)
				if err != nil {
					t.Fatal(err)
				}
				m, err := DrawMarker(d, id, n+2, 1)
				if err != nil {
					t.Fatal(err)
				}
				for r := 0; r < n+2; r++ {
					for col := 0; col < n+2; col++ {
						want := m.GetUCharAt(r, col) == 255
						got := r > 0 && col > 0 && r <= n && col <= n && c.White(r-1, col-1)
						if got != want {
							m.Close()
							t.Fatalf("id %d: cell (%d, %d) white=%v, OpenCV draws white=%v", id, r, col, got, want)
						}
					}
				}
				m.Close()
			}
		})
	}
}
