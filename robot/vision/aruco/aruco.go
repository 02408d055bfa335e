//go:build opencv

package aruco

/*
#cgo !windows pkg-config: opencv4
#cgo CXXFLAGS: --std=c++11
#include <stdlib.h>
#include "aruco.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"

	"gocv.io/x/gocv"
)

// Detector holds a dictionary and detector parameters across frames. It is
// not safe for concurrent use; Close frees its C++ state.
type Detector struct {
	p    C.ArucoDetector
	dict Dictionary
}

// NewDetector prepares detection for dict with the given corner refinement.
func NewDetector(dict Dictionary, refine CornerRefine) (*Detector, error) {
	if dict.Size() == 0 {
		return nil, fmt.Errorf("aruco: unknown dictionary %d", int(dict))
	}
	if refine < RefineNone || refine > RefineAprilTag {
		return nil, fmt.Errorf("aruco: unknown corner refinement %d", int(refine))
	}
	var cerr *C.char
	p := C.Aruco_NewDetector(C.int(dict), C.int(refine), &cerr)
	if p == nil {
		return nil, fmt.Errorf("aruco: new detector %v: %w", dict, takeError(cerr))
	}
	return &Detector{p: p, dict: dict}, nil
}

// Close frees the detector. It is safe to call twice.
func (d *Detector) Close() error {
	if d.p != nil {
		C.Aruco_CloseDetector(d.p)
		d.p = nil
	}
	return nil
}

// Dictionary is the dictionary d detects.
func (d *Detector) Dictionary() Dictionary { return d.dict }

// Detect finds the markers in img (8-bit grey or BGR).
func (d *Detector) Detect(img gocv.Mat) ([]Marker, error) {
	if err := d.check(img); err != nil {
		return nil, err
	}
	var out *C.ArucoMarker
	var cerr *C.char
	n := int(C.Aruco_Detect(d.p, C.ArucoMat(unsafe.Pointer(img.Ptr())), &out, &cerr))
	if n < 0 {
		return nil, fmt.Errorf("aruco: detectMarkers: %w", takeError(cerr))
	}
	if n == 0 {
		return nil, nil
	}
	defer C.free(unsafe.Pointer(out))
	cm := unsafe.Slice(out, n)
	markers := make([]Marker, n)
	for i := range cm {
		markers[i].ID = int(cm[i].id)
		for k := 0; k < 4; k++ {
			markers[i].Corners[k] = [2]float64{float64(cm[i].x[k]), float64(cm[i].y[k])}
		}
	}
	return markers, nil
}

// DetectBare runs one plain cv::aruco::detectMarkers call with OpenCV's
// default parameters and returns how many markers it found. It is the
// baseline that benchmarks compare our pipeline against.
func (d *Detector) DetectBare(img gocv.Mat) (int, error) {
	if err := d.check(img); err != nil {
		return 0, err
	}
	var cerr *C.char
	n := int(C.Aruco_DetectBare(d.p, C.ArucoMat(unsafe.Pointer(img.Ptr())), &cerr))
	if n < 0 {
		return 0, fmt.Errorf("aruco: detectMarkers: %w", takeError(cerr))
	}
	return n, nil
}

func (d *Detector) check(img gocv.Mat) error {
	if d.p == nil {
		return errors.New("aruco: detector is closed")
	}
	if img.Empty() {
		return errors.New("aruco: empty image")
	}
	if t := img.Type(); t != gocv.MatTypeCV8UC1 && t != gocv.MatTypeCV8UC3 && t != gocv.MatTypeCV8UC4 {
		return fmt.Errorf("aruco: image type %v, want 8-bit grey, BGR or BGRA", t)
	}
	return nil
}

// DrawMarker renders marker id of dict as a sidePx×sidePx 8-bit grey image
// with borderBits cells of black border (1 is the standard marker). The
// caller closes the returned Mat.
func DrawMarker(dict Dictionary, id, sidePx, borderBits int) (gocv.Mat, error) {
	if dict.Size() == 0 {
		return gocv.NewMat(), fmt.Errorf("aruco: unknown dictionary %d", int(dict))
	}
	if id < 0 || id >= dict.Size() {
		return gocv.NewMat(), fmt.Errorf("aruco: marker id %d outside %v (0..%d)", id, dict, dict.Size()-1)
	}
	if sidePx <= 0 || borderBits <= 0 {
		return gocv.NewMat(), fmt.Errorf("aruco: marker side %d px, border %d bits: both must be positive", sidePx, borderBits)
	}
	dst := gocv.NewMat()
	var cerr *C.char
	if C.Aruco_DrawMarker(C.int(dict), C.int(id), C.int(sidePx), C.int(borderBits), C.ArucoMat(unsafe.Pointer(dst.Ptr())), &cerr) != 0 {
		dst.Close()
		return gocv.NewMat(), fmt.Errorf("aruco: drawMarker %v id %d: %w", dict, id, takeError(cerr))
	}
	return dst, nil
}

func takeError(cerr *C.char) error {
	if cerr == nil {
		return errors.New("unknown error")
	}
	defer C.free(unsafe.Pointer(cerr))
	return errors.New(C.GoString(cerr))
}
