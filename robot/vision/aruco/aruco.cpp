//go:build opencv

#include <cstdlib>
#include <cstring>
#include <vector>
#include <opencv2/core.hpp>
#include <opencv2/aruco.hpp>
#include "aruco.h"

namespace {

struct arucoDetector {
	cv::Ptr<cv::aruco::Dictionary> dict;
	cv::Ptr<cv::aruco::DetectorParameters> params;
	cv::Ptr<cv::aruco::DetectorParameters> bare;
};

char* dupError(const char* what) {
	return strdup(what ? what : "unknown OpenCV error");
}

} // namespace

extern "C" {

ArucoDetector Aruco_NewDetector(int dict, int cornerRefine, char** err) {
	try {
		arucoDetector* d = new arucoDetector;
		d->dict = cv::aruco::getPredefinedDictionary(dict);
		d->params = cv::aruco::DetectorParameters::create();
		d->params->cornerRefinementMethod = cornerRefine;
		d->bare = cv::aruco::DetectorParameters::create();
		return d;
	} catch (const std::exception& e) {
		*err = dupError(e.what());
		return NULL;
	}
}

void Aruco_CloseDetector(ArucoDetector d) {
	delete static_cast<arucoDetector*>(d);
}

int Aruco_Detect(ArucoDetector d, ArucoMat img, ArucoMarker** out, char** err) {
	*out = NULL;
	try {
		arucoDetector* det = static_cast<arucoDetector*>(d);
		std::vector<int> ids;
		std::vector<std::vector<cv::Point2f> > corners;
		cv::aruco::detectMarkers(*static_cast<cv::Mat*>(img), det->dict, corners, ids, det->params);
		if (ids.empty()) {
			return 0;
		}
		ArucoMarker* m = static_cast<ArucoMarker*>(malloc(ids.size() * sizeof(ArucoMarker)));
		if (m == NULL) {
			*err = dupError("out of memory");
			return -1;
		}
		for (size_t i = 0; i < ids.size(); i++) {
			m[i].id = ids[i];
			for (int k = 0; k < 4; k++) {
				m[i].x[k] = corners[i][k].x;
				m[i].y[k] = corners[i][k].y;
			}
		}
		*out = m;
		return (int)ids.size();
	} catch (const std::exception& e) {
		*err = dupError(e.what());
		return -1;
	}
}

int Aruco_DetectBare(ArucoDetector d, ArucoMat img, char** err) {
	try {
		arucoDetector* det = static_cast<arucoDetector*>(d);
		std::vector<int> ids;
		std::vector<std::vector<cv::Point2f> > corners;
		cv::aruco::detectMarkers(*static_cast<cv::Mat*>(img), det->dict, corners, ids, det->bare);
		return (int)ids.size();
	} catch (const std::exception& e) {
		*err = dupError(e.what());
		return -1;
	}
}

int Aruco_DrawMarker(int dict, int id, int side, int borderBits, ArucoMat dst, char** err) {
	try {
		cv::Ptr<cv::aruco::Dictionary> d = cv::aruco::getPredefinedDictionary(dict);
		cv::aruco::drawMarker(d, id, side, *static_cast<cv::Mat*>(dst), borderBits);
		return 0;
	} catch (const std::exception& e) {
		*err = dupError(e.what());
		return -1;
	}
}

} // extern "C"
