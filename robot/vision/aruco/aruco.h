// C interface to cv::aruco for cgo. Mats are gocv's cv::Mat pointers, passed
// as void* so this header does not depend on gocv's headers.
#ifndef COLLABORATE_ARUCO_H
#define COLLABORATE_ARUCO_H

#ifdef __cplusplus
extern "C" {
#endif

typedef void* ArucoMat;      // cv::Mat*
typedef void* ArucoDetector; // struct arucoDetector*

typedef struct {
	int id;
	float x[4];
	float y[4];
} ArucoMarker;

// Aruco_NewDetector returns NULL and sets *err (free it) on failure.
ArucoDetector Aruco_NewDetector(int dict, int cornerRefine, char** err);
void Aruco_CloseDetector(ArucoDetector d);

// Aruco_Detect sets *out to a malloc'd array (free it) of the markers found
// and returns their count, or -1 with *err set.
int Aruco_Detect(ArucoDetector d, ArucoMat img, ArucoMarker** out, char** err);

// Aruco_DetectBare is the baseline: one plain cv::aruco::detectMarkers call
// with default parameters on a dictionary fetched once by the caller's
// detector. Returns the count, or -1 with *err set.
int Aruco_DetectBare(ArucoDetector d, ArucoMat img, char** err);

// Aruco_DrawMarker renders marker id into dst (CV_8UC1, side x side pixels).
// Returns 0, or -1 with *err set.
int Aruco_DrawMarker(int dict, int id, int side, int borderBits, ArucoMat dst, char** err);

#ifdef __cplusplus
}
#endif

#endif
