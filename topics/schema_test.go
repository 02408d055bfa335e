package topics

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Every schema in fields.go lists its struct's JSON fields in struct order,
// with the same names and the same required ones (no omitempty), and has a
// schema for each nested struct or list of structs: a field added to a
// struct and not to its schema fails here.
func TestSchemasMatchStructs(t *testing.T) {
	if len(kinds) == 0 {
		t.Fatal("no kinds")
	}
	for k, ki := range kinds {
		t.Run(string(k), func(t *testing.T) { checkSchema(t, ki.name, ki.schema) })
	}
}

func checkSchema(t *testing.T, where string, s describer) {
	t.Helper()
	typ, fields := s.describe()
	want := structFields(typ)
	type tag struct {
		name     string
		required bool
	}
	var got, exp []tag
	for _, f := range fields {
		got = append(got, tag{f.name, f.required})
	}
	for _, f := range want {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		exp = append(exp, tag{name, !strings.Contains(opts, "omitempty")})
	}
	if !reflect.DeepEqual(got, exp) {
		t.Fatalf("%s: schema fields %v, struct %s has %v", where, got, typ.Name(), exp)
	}
	for i, f := range want {
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		isStruct := ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]()
		sub := fields[i].sub
		switch {
		case isStruct && sub == nil:
			t.Errorf("%s.%s is a %s but its schema field has no schema for it", where, fields[i].name, ft.Name())
		case !isStruct && sub != nil:
			t.Errorf("%s.%s is a %s but its schema field decodes an object", where, fields[i].name, f.Type)
		case isStruct:
			if st, _ := sub.describe(); st != ft {
				t.Errorf("%s.%s is a %s, its schema decodes a %s", where, fields[i].name, ft.Name(), st.Name())
			}
			checkSchema(t, where+"."+fields[i].name, sub)
		}
	}
}

// structFields lists a struct's JSON fields, the embedded header's first.
func structFields(typ reflect.Type) []reflect.StructField {
	var out []reflect.StructField
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			out = append(out, structFields(f.Type)...)
			continue
		}
		if tag := f.Tag.Get("json"); tag != "" && tag != "-" && f.IsExported() {
			out = append(out, f)
		}
	}
	return out
}

// shortFloat must give strconv.ParseFloat's float64, bit for bit, on every
// decimal it takes.
func TestShortFloatMatchesStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(lit string) {
		got, ok := shortFloat([]byte(lit))
		want, err := strconv.ParseFloat(lit, 64)
		if !ok {
			return
		}
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("shortFloat(%q) = %v (%x), strconv %v (%x), %v", lit, got, math.Float64bits(got), want, math.Float64bits(want), err)
		}
	}
	for _, lit := range []string{"0", "-0", "0.0", "-0.0", "1.25", "-0.25", "0.1", "0.3", "999999999999999", "0.000000000000001", "9.99999999999999", "123456789.012345"} {
		check(lit)
	}
	taken := 0
	for range 200000 {
		n := 1 + rng.IntN(15)
		b := make([]byte, 0, n+2)
		if rng.IntN(2) == 0 {
			b = append(b, '-')
		}
		for i := range n {
			c := byte('0' + rng.IntN(10))
			if i == 0 && n > 1 && c == '0' {
				c = '1'
			}
			b = append(b, c)
		}
		if p := rng.IntN(n + 1); p < n && p > 0 {
			b = append(b[:len(b)-(n-p)], append([]byte{'.'}, b[len(b)-(n-p):]...)...)
		}
		if _, ok := shortFloat(b); ok {
			taken++
		}
		check(string(b))
	}
	if taken < 100000 {
		t.Fatalf("shortFloat took %d of 200000 short decimals", taken)
	}
}
