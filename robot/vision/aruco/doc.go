// Package aruco is our thin cgo bridge to OpenCV's cv::aruco module (OpenCV
// 4.6, libopencv_aruco, header opencv2/aruco.hpp). gocv's own contrib package
// does not build against Debian's OpenCV (Debian ships no xfeatures2d), so we
// call the two functions we need ourselves: DetectMarkers and DrawMarker, on
// gocv.Mat values passed by their Ptr().
//
// Everything that links OpenCV carries the build tag "opencv". The dictionary
// names (names.go) are pure Go so that configuration can be validated in
// builds without OpenCV, and so are the markers' patterns (Dictionary.Code,
// codes_gen.go), taken from OpenCV once by `go generate` (internal/gencodes,
// which needs the opencv tag and a compiling package, so codes_gen.go stays
// committed) so that the frame renderer draws real markers without OpenCV.
//
// Corners are in pixels, image frame (x right, y down), in ArUco's order:
// clockwise from the marker's own top-left corner.
package aruco
