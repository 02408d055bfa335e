package topics

import (
	"reflect"
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
