package aruco

import (
	"fmt"
	"sort"
	"strings"
)

// Dictionary is one of OpenCV's predefined ArUco dictionaries; its value is
// cv::aruco::PREDEFINED_DICTIONARY_NAME.
type Dictionary int

// The predefined dictionaries, in OpenCV's order (values must match
// opencv2/aruco/dictionary.hpp).
const (
	Dict4X4_50 Dictionary = iota
	Dict4X4_100
	Dict4X4_250
	Dict4X4_1000
	Dict5X5_50
	Dict5X5_100
	Dict5X5_250
	Dict5X5_1000
	Dict6X6_50
	Dict6X6_100
	Dict6X6_250
	Dict6X6_1000
	Dict7X7_50
	Dict7X7_100
	Dict7X7_250
	Dict7X7_1000
	DictArucoOriginal
	DictAprilTag16h5
	DictAprilTag25h9
	DictAprilTag36h10
	DictAprilTag36h11
)

// DefaultDictionary is what the arena uses unless configured otherwise.
const DefaultDictionary = Dict4X4_250

var dictNames = map[string]Dictionary{
	"DICT_4X4_50": Dict4X4_50, "DICT_4X4_100": Dict4X4_100, "DICT_4X4_250": Dict4X4_250, "DICT_4X4_1000": Dict4X4_1000,
	"DICT_5X5_50": Dict5X5_50, "DICT_5X5_100": Dict5X5_100, "DICT_5X5_250": Dict5X5_250, "DICT_5X5_1000": Dict5X5_1000,
	"DICT_6X6_50": Dict6X6_50, "DICT_6X6_100": Dict6X6_100, "DICT_6X6_250": Dict6X6_250, "DICT_6X6_1000": Dict6X6_1000,
	"DICT_7X7_50": Dict7X7_50, "DICT_7X7_100": Dict7X7_100, "DICT_7X7_250": Dict7X7_250, "DICT_7X7_1000": Dict7X7_1000,
	"DICT_ARUCO_ORIGINAL": DictArucoOriginal,
	"DICT_APRILTAG_16h5":  DictAprilTag16h5, "DICT_APRILTAG_25h9": DictAprilTag25h9,
	"DICT_APRILTAG_36h10": DictAprilTag36h10, "DICT_APRILTAG_36h11": DictAprilTag36h11,
}

// dictSizes is the number of markers in each dictionary: ids run 0..size-1.
var dictSizes = map[Dictionary]int{
	Dict4X4_50: 50, Dict4X4_100: 100, Dict4X4_250: 250, Dict4X4_1000: 1000,
	Dict5X5_50: 50, Dict5X5_100: 100, Dict5X5_250: 250, Dict5X5_1000: 1000,
	Dict6X6_50: 50, Dict6X6_100: 100, Dict6X6_250: 250, Dict6X6_1000: 1000,
	Dict7X7_50: 50, Dict7X7_100: 100, Dict7X7_250: 250, Dict7X7_1000: 1000,
	DictArucoOriginal: 1024, DictAprilTag16h5: 30, DictAprilTag25h9: 35,
	DictAprilTag36h10: 2320, DictAprilTag36h11: 587,
}

// ParseDictionary maps an OpenCV name such as "DICT_4X4_250" (case-insensitive,
// the "DICT_" prefix optional) to its Dictionary.
func ParseDictionary(name string) (Dictionary, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	if !strings.HasPrefix(n, "DICT_") {
		n = "DICT_" + n
	}
	for k, d := range dictNames {
		if strings.ToUpper(k) == n {
			return d, nil
		}
	}
	return 0, fmt.Errorf("unknown ArUco dictionary %q (known: %s)", name, strings.Join(DictionaryNames(), ", "))
}

// DictionaryNames lists the accepted names, sorted.
func DictionaryNames() []string {
	out := make([]string, 0, len(dictNames))
	for k := range dictNames {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// String returns OpenCV's name for d.
func (d Dictionary) String() string {
	for k, v := range dictNames {
		if v == d {
			return k
		}
	}
	return fmt.Sprintf("Dictionary(%d)", int(d))
}

// Size is the number of markers in d (ids 0..Size-1), or 0 for an unknown d.
func (d Dictionary) Size() int { return dictSizes[d] }
