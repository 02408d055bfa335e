//go:build opencv

package vision

import (
	"path/filepath"
	"sort"
	"testing"

	"gocv.io/x/gocv"
)

// TestRealPhotos runs the pipeline on real camera photos (testdata/
// aruco-photos, see its README): it must find at least every id that bare
// OpenCV 4.6 detectMarkers finds with default parameters.
func TestRealPhotos(t *testing.T) {
	span := func(a, b int) []int {
		var out []int
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
		return out
	}
	tests := []struct {
		file string
		want []int // from the README
	}{
		{"singlemarkersoriginal.jpg", []int{23, 40, 62, 98, 124, 203}},
		{"img_00.jpg", span(0, 16)},
		{"img_02.jpg", span(1, 16)},
		{"chocclusion_original.jpg", append(span(0, 10), 12, 15)},
	}
	cfg := DefaultConfig()
	cfg.Dictionary = "DICT_6X6_250"
	d := newTestDetector(t, cfg)
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			img := gocv.IMRead(filepath.Join("testdata", "aruco-photos", tc.file), gocv.IMReadColor)
			defer img.Close()
			if img.Empty() {
				t.Fatalf("cannot read %s", tc.file)
			}
			ss, err := d.Look(img)
			if err != nil {
				t.Fatal(err)
			}
			got := map[int]bool{}
			var ids []int
			for _, s := range ss {
				got[s.ID] = true
				ids = append(ids, s.ID)
			}
			for _, id := range tc.want {
				if !got[id] {
					t.Errorf("missed id %d", id)
				}
			}
			bare, err := d.det.DetectBare(img)
			if err != nil {
				t.Fatal(err)
			}
			sort.Ints(ids)
			t.Logf("ours: %d markers %v; bare detectMarkers: %d", len(ids), ids, bare)
			if len(ss) < bare {
				t.Errorf("ours found %d markers, bare OpenCV %d", len(ss), bare)
			}
		})
	}
}
