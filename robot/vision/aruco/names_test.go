package aruco

import "testing"

func TestParseDictionary(t *testing.T) {
	tests := []struct {
		in      string
		want    Dictionary
		wantErr bool
	}{
		{"DICT_4X4_250", Dict4X4_250, false},
		{"dict_6x6_250", Dict6X6_250, false},
		{"5X5_100", Dict5X5_100, false},
		{"DICT_APRILTAG_36h11", DictAprilTag36h11, false},
		{"DICT_ARUCO_ORIGINAL", DictArucoOriginal, false},
		{"DICT_4X4_251", 0, true},
		{"", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseDictionary(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseDictionary(%q) err = %v, wantErr %v", tc.in, err, tc.wantErr)
			}
			if err == nil && got != tc.want {
				t.Fatalf("ParseDictionary(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestDictionaryRoundTrip(t *testing.T) {
	for _, name := range DictionaryNames() {
		t.Run(name, func(t *testing.T) {
			d, err := ParseDictionary(name)
			if err != nil {
				t.Fatal(err)
			}
			if d.String() != name {
				t.Fatalf("String() = %q, want %q", d.String(), name)
			}
			if d.Size() <= 0 {
				t.Fatalf("Size() = %d", d.Size())
			}
		})
	}
	if len(DictionaryNames()) != int(DictAprilTag36h11)+1 {
		t.Fatalf("%d names for %d dictionaries", len(DictionaryNames()), int(DictAprilTag36h11)+1)
	}
}
