// Package lens is the camera model shared by the detector (which inverts
// it to range markers) and the frame renderer (which applies it to draw
// frames): OpenCV's pinhole camera with Brown–Conrady distortion, the model
// of cv::projectPoints, cv::undistortPoints and cv::calibrateCamera with
// five coefficients (k1, k2, p1, p2, k3).
//
// Coordinates: pixels (u right, v down) and normalised image coordinates
// (x = X/Z, y = Y/Z of a point in the camera frame: x right, y down, z
// along the optical axis). "Ideal" coordinates are those of a camera
// without distortion; "distorted" ones are what the sensor records.
//
// Undistort inverts the distortion by Newton's method to 1e-13, where
// cv::undistortPoints (OpenCV 4.6) stops after five fixed-point steps: on a
// strongly distorted lens that leaves a pixel of error at the image's edge
// (1.0 px on the strong barrel of lens_opencv_test.go, ours under 0.0001).
package lens
