// Package render draws what a robot's camera sees: 8-bit grey frames of
// the arena, with real ArUco markers on its wall and on other robots'
// faces, through a real lens, for the software-in-the-loop robot (the real
// vision pipeline runs on these frames) and for the vision tests. It is
// pure Go: it builds and is tested without OpenCV. The marker patterns come
// from package aruco's Go tables (taken from OpenCV by go generate), the
// lens from package lens (OpenCV's camera model).
//
// Units and frames: metres and radians. The arena frame has its origin at
// the arena's centre on the floor, x/y horizontal, z up, angles
// counter-clockwise from +x, as in package sim. The camera sits at a Pose
// (x, y, heading) at Camera.HeightM above the floor and looks level along
// the heading. Pixels: u right, v down, pixel centres at integers.
//
// The world: a circular wall (Arena) with a floor and, above the wall, the
// room; upright square markers anywhere (Marker: an arena marker is one on
// the wall, facing the centre); robots as opaque upright cylinders
// (Robot), each with one upright marker on each face (front, left, back,
// right), tangent to its side; and chessboards at any pose (Board), for
// calibration. Surfaces are matte: radiance is albedo × (ambient +
// directional × cos incidence), no shadows.
//
// How a frame is made (Renderer.Render):
//  1. every pixel's ray, from tables made once per camera (the lens
//     inverted at every pixel centre and corner), meets the wall, the floor
//     or a robot's cylinder: one sample per pixel;
//  2. every marker and board facing the camera is drawn far to near over
//     its bounding box: a pixel wholly inside one cell takes the cell's
//     radiance, a pixel that straddles an edge (a cell's, the marker's or an
//     occluding robot's) is supersampled (Effects.Samples² rays on a
//     lattice), so edges are antialiased as a sensor integrates them;
//  3. motion blur: while the camera turns at ω, a point's image moves along
//     the row by du/dψ·ω px/s (du/dψ from the lens, per pixel); each row is
//     averaged over that length times the exposure time (a box, by prefix
//     sums; the slight vertical drift off-centre is left out);
//  4. exposure: gain, vignetting (cos⁴ falloff), black level, Gaussian read
//     and shot noise, rounding to 8 bits.
//
// A Renderer holds its camera's tables and its buffers: one per camera, not
// safe for concurrent use; renderers of different robots run in parallel.
package render
