package aruco

// Marker is one detected marker: its id and its four corners in pixels
// (image frame, x right, y down), clockwise from the marker's own top-left.
type Marker struct {
	ID      int
	Corners [4][2]float64
}

// CornerRefine selects cv::aruco::CornerRefineMethod.
type CornerRefine int

// Corner refinement methods, values as in opencv2/aruco.hpp.
const (
	RefineNone CornerRefine = iota
	RefineSubpix
	RefineContour
	RefineAprilTag
)
