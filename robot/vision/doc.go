// Package vision is the robot's camera: frames from a V4L2 device or a
// GStreamer pipeline (or, in the simulator, drawn by package render),
// ArUco markers found by OpenCV's cv::aruco (through package aruco), told
// apart by id (arena or face), and ranged with the pinhole model after
// undistorting their corners. Detector implements hw.Detector for the
// pilot; DetectCommand is `robot detect`, for checking a camera and its
// calibration by hand; CalibrateCommand is `robot calibrate`, which
// measures the camera's intrinsics and distortion from a chessboard and
// writes them into the config.
//
// Units and frames: distances in metres, angles in radians. A bearing is
// measured from the camera's optical axis, counter-clockwise (to the left)
// positive; mount the camera looking along the robot's heading. Distance is
// to the marker's centre in the floor plane. Corners are pixels, x right,
// y down, in cv::aruco's order, as detected (distorted).
//
// Contracts:
//   - Ranging assumes upright markers and a level camera (see Locate). The
//     detected corners are undistorted with the config's k1, k2, p1, p2, k3
//     (package lens, OpenCV's model) before ranging. Intrinsics come from
//     the config: nominal Pi Camera v2/v3 values at 640×480
//     (PiCamV2At640x480, PiCamV3At640x480) without distortion, or a
//     calibration's fx, fy, cx, cy and distortion (camera.intrinsics).
//   - hw.Detection.DistanceM is the camera distance, before fleet/map's
//     scale; Sighting.DistanceM carries the scale set by SetScale.
//   - Ids in neither configured range are "unknown": reported by
//     `robot detect`, never passed to the pilot. Markers too small to range
//     reliably (min_side_px) are reported but not ranged.
//   - A config file is a vision config, or a robot config whose vision
//     block is read (a robot config has a vision or id key).
//   - Frames come from a FrameSource (gocv Mats: the camera) or, through
//     GrayFrames, from a GraySource (Go images: the simulator's renderer),
//     into the same Detector.
//   - Everything that needs OpenCV carries the build tag "opencv"; without
//     it the config, the ranging maths, the calibration's YAML editing and
//     the output format still build and test, and DetectCommand and
//     CalibrateCommand return ErrNoOpenCV.
//
// Printing markers: leave a white margin of at least one cell round the
// black square (a 10 cm marker of a 4×4 dictionary has 1.67 cm cells):
// cv::aruco finds a marker by its black border against white.
//
// Pi cameras on Raspberry Pi OS bookworm are reached through libcamera, not
// V4L2: install gstreamer1.0-libcamera and set camera.pipeline to
// LibcameraPipeline(640, 480, 30), i.e.
//
//	libcamerasrc ! video/x-raw,width=640,height=480,framerate=30/1 ! videoconvert ! video/x-raw,format=BGR ! appsink drop=true max-buffers=1 sync=false
//
// A USB webcam works through V4L2 with camera.device "0" (or /dev/video0)
// and camera.model custom with its own intrinsics.
package vision
