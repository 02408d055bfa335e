package topics

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// A schema tells the decoder how a JSON object maps onto a struct T: its
// fields in struct order, each with its JSON name, whether it is required,
// and how its value decodes. fields.go holds one per struct of the
// contract; a test checks them against the structs' json tags.
type schema[T any] struct {
	name     string           // message name errors start with; "" for nested objects
	header   func(*T) *Header // nil for nested objects
	fields   []field[T]
	ts       int         // index of the header's ts field, or -1
	required uint64      // bit i: fields[i] is required
	null     *FieldError // what a null in a list of T is missing, if anything
}

// A field is one key of an object.
type field[T any] struct {
	name     string
	key      []byte // name, for case-insensitive matching
	required bool   // no omitempty in the json tag
	// decode consumes one value into m. It returns what the old decoder's
	// required-field pass found wrong inside it (a nested object's missing
	// field, a list that is not a list of objects), relative to the field.
	decode func(d *decoder, m *T) *FieldError
	sub    describer // the schema of a nested struct or list of structs
}

// describer lets TestSchemasMatchStructs compare a schema, and those nested
// in it, with the struct it decodes into.
type describer interface {
	describe() (reflect.Type, []fieldInfo)
}

type fieldInfo struct {
	name     string
	required bool
	sub      describer
}

func (s *schema[T]) describe() (reflect.Type, []fieldInfo) {
	var fs []fieldInfo
	for _, f := range s.fields {
		fs = append(fs, fieldInfo{name: f.name, required: f.required, sub: f.sub})
	}
	return reflect.TypeFor[T](), fs
}

// maxFields bounds a struct's fields: bit masks of them are kept while
// decoding.
const maxFields = 64

func newSchema[T any](name string, header func(*T) *Header, fields []field[T]) *schema[T] {
	if len(fields) > maxFields {
		panic(fmt.Sprintf("topics: %d fields in a schema, at most %d", len(fields), maxFields))
	}
	s := &schema[T]{name: name, header: header, fields: fields, ts: -1}
	for i, f := range fields {
		if header != nil && f.name == "ts" {
			s.ts = i
		}
		if f.required {
			s.required |= 1 << i
			if s.null == nil {
				s.null = &FieldError{Field: f.name, Problem: "is required"}
			}
		}
	}
	return s
}

// message is the schema of a message: the header's fields, then its own.
func message[T any, P interface {
	*T
	header() *Header
}](name string, fields ...field[T]) *schema[T] {
	hdr := func(m *T) *Header { return P(m).header() }
	all := append([]field[T]{
		integer("v", func(m *T) *int { return &hdr(m).V }),
		str("sender", func(m *T) *string { return &hdr(m).Sender }),
		uinteger("seq", func(m *T) *uint64 { return &hdr(m).Seq }),
		timestamp("ts", func(m *T) *time.Time { return &hdr(m).TS }),
	}, fields...)
	return newSchema(name, hdr, all)
}

// object is the schema of a struct nested in a message.
func object[T any](fields ...field[T]) *schema[T] { return newSchema("", nil, fields) }

// tagged makes a field from its json tag, e.g. "target,omitempty".
func tagged[T any](tag string, decode func(*decoder, *T) *FieldError) field[T] {
	name, opts, _ := strings.Cut(tag, ",")
	return field[T]{name: name, key: []byte(name), required: !strings.Contains(opts, "omitempty"), decode: decode}
}

// The kinds of fields. Each takes the json tag of the struct field and a
// function that returns where the value goes.

func integer[T any](tag string, at func(*T) *int) field[T] {
	return tagged(tag, func(d *decoder, m *T) *FieldError { d.int(at(m)); return nil })
}

func uinteger[T any](tag string, at func(*T) *uint64) field[T] {
	return tagged(tag, func(d *decoder, m *T) *FieldError { d.uint(at(m)); return nil })
}

func number[T any](tag string, at func(*T) *float64) field[T] {
	return tagged(tag, func(d *decoder, m *T) *FieldError { d.float(at(m)); return nil })
}

func boolean[T any](tag string, at func(*T) *bool) field[T] {
	return tagged(tag, func(d *decoder, m *T) *FieldError { d.bool(at(m)); return nil })
}

// str is a string field; values among known (a state, a kind) decode
// without allocating. Whether a value is allowed is Validate's business.
func str[T any](tag string, at func(*T) *string, known ...string) field[T] {
	return tagged(tag, func(d *decoder, m *T) *FieldError { d.string(at(m), known); return nil })
}

func optInteger[T any](tag string, at func(*T) **int) field[T] {
	return tagged(tag, func(d *decoder, m *T) *FieldError { d.optInt(at(m)); return nil })
}

func optNumber[T any](tag string, at func(*T) **float64) field[T] {
	return tagged(tag, func(d *decoder, m *T) *FieldError { d.optFloat(at(m)); return nil })
}

// timestamp is the header's time: an RFC 3339 string, parsed as
// time.Time.UnmarshalJSON does.
func timestamp[T any](tag string, at func(*T) *time.Time) field[T] {
	return tagged(tag, func(d *decoder, m *T) *FieldError { d.time(at(m)); return nil })
}

// nested is a struct field.
func nested[T, E any](tag string, at func(*T) *E, s *schema[E]) field[T] {
	f := tagged(tag, func(d *decoder, m *T) *FieldError { return objectValue(d, at(m), s) })
	f.sub = s
	return f
}

// optNested is a pointer to a struct: null clears it, an object fills it
// (the one an earlier value of the same key made, if any).
func optNested[T, E any](tag string, at func(*T) **E, s *schema[E]) field[T] {
	f := tagged(tag, func(d *decoder, m *T) *FieldError {
		p := at(m)
		switch d.peek() {
		case 'n':
			d.word("null")
			*p = nil
			return nil
		case '{':
			if *p == nil {
				*p = new(E)
			}
			return decodeObject(d, *p, s)
		}
		return d.not(tObject)
	})
	f.sub = s
	return f
}

// list is a list of structs.
func list[T, E any](tag string, at func(*T) *[]E, s *schema[E]) field[T] {
	elem := func(d *decoder, e *E) *FieldError {
		switch d.peek() {
		case '{':
			return decodeObject(d, e, s)
		case 'n':
			d.word("null") // leaves the element alone, yet counts as an object without its fields
			return s.null
		}
		return d.not(tObject)
	}
	f := tagged(tag, func(d *decoder, m *T) *FieldError { return decodeList(d, at(m), true, elem) })
	f.sub = s
	return f
}

// intList is a list of integers.
func intList[T any](tag string, at func(*T) *[]int) field[T] {
	elem := func(d *decoder, e *int) *FieldError { d.int(e); return nil }
	return tagged(tag, func(d *decoder, m *T) *FieldError { return decodeList(d, at(m), false, elem) })
}

// objectValue decodes an object into p.
func objectValue[E any](d *decoder, p *E, s *schema[E]) *FieldError {
	switch d.peek() {
	case '{':
		return decodeObject(d, p, s)
	case 'n':
		d.word("null")
		return nil
	}
	return d.not(tObject)
}

// not consumes a value that should have been an object or an array: a type
// error, and the required-field pass's complaint about it.
func (d *decoder) not(want string) *FieldError {
	d.space()
	start := d.pos
	d.other(want)
	if d.bad {
		return nil
	}
	return &FieldError{Message: d.msg, Problem: "must be " + want + ", got " + short(d.buf[start:d.pos])}
}

// within puts a nested problem under the field that holds it.
func within(name string, e *FieldError, msg string) *FieldError {
	f := name
	switch {
	case e.Field == "":
	case e.Field[0] == '[':
		f += e.Field
	default:
		f += "." + e.Field
	}
	return &FieldError{Message: msg, Field: f, Problem: e.Problem}
}

// lookup finds the field a key selects: exactly, or else ignoring case.
func (s *schema[T]) lookup(raw []byte, plain bool, hint int) (i int, exact bool) {
	key := raw
	if !plain {
		key = []byte(text(raw, false))
	}
	if hint < len(s.fields) && string(key) == s.fields[hint].name {
		return hint, true
	}
	for i := range s.fields {
		if string(key) == s.fields[i].name {
			return i, true
		}
	}
	for i := range s.fields {
		if bytes.EqualFold(key, s.fields[i].key) {
			return i, false
		}
	}
	return -1, false
}

// decodeObject decodes the object at d.pos into m. It returns the first
// problem of the required-field pass, in struct order.
func decodeObject[T any](d *decoder, m *T, s *schema[T]) *FieldError {
	req, _ := decodeFields(d, m, s)
	return req
}

// decodeFields is decodeObject, and also returns the value of the last ts
// key, for the header's check.
func decodeFields[T any](d *decoder, m *T, s *schema[T]) (req *FieldError, ts []byte) {
	if !d.open() {
		return nil, nil
	}
	// What the last exact key of each field held (encoding/json's map of
	// raw values kept only the last one): bit i of present says field i's
	// was not null, problems[i] what its value got wrong.
	var present uint64
	var problems []*FieldError
	if d.peek() == '}' {
		d.pos++
	} else {
		hint := 0
		for {
			if d.peek() != '"' {
				d.bad = true
				return nil, nil
			}
			raw, plain := d.str()
			if d.bad || !d.expect(':') {
				return nil, nil
			}
			i, exact := s.lookup(raw, plain, hint)
			if i < 0 {
				d.skip()
			} else {
				hint = i + 1
				f := &s.fields[i]
				d.space()
				start := d.pos
				d.push(f.name)
				problem := f.decode(d, m)
				d.pop()
				if exact && !d.bad {
					v := d.buf[start:d.pos]
					present &^= 1 << i
					if string(v) != "null" {
						present |= 1 << i
					}
					if problem != nil && problems == nil {
						problems = make([]*FieldError, len(s.fields))
					}
					if problems != nil {
						problems[i] = problem
					}
					if i == s.ts {
						ts = v
					}
				}
			}
			if d.bad {
				return nil, nil
			}
			c := d.peek()
			d.pos++
			if c == '}' {
				break
			}
			if c != ',' {
				d.bad = true
				return nil, nil
			}
		}
	}
	d.depth--
	if present&s.required == s.required && problems == nil {
		return nil, ts
	}
	for i := range s.fields {
		f := &s.fields[i]
		switch {
		case present&(1<<i) == 0 && f.required:
			return &FieldError{Message: d.msg, Field: f.name, Problem: "is required"}, ts
		case present&(1<<i) != 0 && problems != nil && problems[i] != nil:
			return within(f.name, problems[i], d.msg), ts
		}
	}
	return nil, ts
}

// decodeList decodes an array into p, element by element in place, as
// encoding/json does: the elements of an earlier value of the same key are
// overwritten, not replaced. objects says the elements are objects, which
// the required-field pass looked into.
func decodeList[E any](d *decoder, p *[]E, objects bool, elem func(*decoder, *E) *FieldError) *FieldError {
	switch d.peek() {
	case '[':
	case 'n':
		d.word("null")
		*p = nil
		return nil
	default:
		problem := d.not(tArray)
		if !objects {
			return nil
		}
		return problem
	}
	if !d.open() {
		return nil
	}
	all := (*p)[:cap(*p)]
	n := 0
	var problem *FieldError
	if d.peek() == ']' {
		d.pos++
	} else {
		for {
			if n == len(all) {
				if len(all) == 0 {
					all = make([]E, 4)
				} else {
					var zero E
					all = append(all, zero)
					all = all[:cap(all)]
				}
			}
			if e := elem(d, &all[n]); e != nil && problem == nil {
				problem = within("["+strconv.Itoa(n)+"]", e, d.msg)
			}
			n++
			if d.bad {
				return nil
			}
			c := d.peek()
			d.pos++
			if c == ']' {
				break
			}
			if c != ',' {
				d.bad = true
				return nil
			}
		}
	}
	d.depth--
	if n == 0 {
		*p = []E{}
	} else {
		*p = all[:n]
	}
	return problem
}

// time decodes the header's time with time.Time.UnmarshalJSON, which sees
// the raw value: a string with escapes does not parse. The first failure
// stops encoding/json's decoding; here it is kept to be reported in its
// place.
func (d *decoder) time(p *time.Time) {
	d.space()
	start := d.pos
	if d.peek() == '"' {
		d.str()
	} else {
		d.skip()
	}
	if d.bad {
		return
	}
	if err := p.UnmarshalJSON(d.buf[start:d.pos]); err != nil && d.abort == nil {
		d.abort = err
	}
}

// boxed is a message with room for its optional numbers: a pose and its
// four pointers to numbers are one allocation.
type boxed[T any] struct {
	m      T
	floats [4]float64
	ints   [2]int
}

// decode decodes and validates a whole payload into a new T. robot is the
// robot the topic names, or "".
// decoded counts the payloads decoded, for Decoded.
var decoded atomic.Uint64

// Decoded is how many payloads this process has decoded so far: a
// process that decodes each message once (the orchestrator) can be checked
// for it.
func Decoded() uint64 { return decoded.Load() }

func decode[T any, P interface {
	*T
	Message
}](s *schema[T], b []byte, robot string) (*T, error) {
	decoded.Add(1)
	fail := func(field, problem string) error {
		return &FieldError{Message: s.name, Field: field, Problem: problem}
	}
	if len(b) > MaxPayload {
		return nil, fail("", fmt.Sprintf("payload is %d bytes, over the %d byte limit", len(b), MaxPayload))
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, fail("", "payload must be a JSON object")
	}
	d := newDecoder(s.name, b, robot)
	defer d.free()
	box := new(boxed[T])
	m := &box.m
	d.floats, d.ints = box.floats[:], box.ints[:]
	req, ts := decodeFields(d, m, s)
	if d.space(); d.pos != len(b) {
		d.bad = true
	}
	switch {
	case d.bad:
		err := json.Unmarshal(b, &struct{}{})
		if err == nil {
			// Never: the scanner and encoding/json agree on what is JSON.
			return nil, fail("", "invalid JSON")
		}
		return nil, fail("", "invalid JSON: "+err.Error())
	case req != nil:
		return nil, req
	}
	if err := checkTime(s.name, ts); err != nil {
		return nil, err
	}
	switch {
	case d.abort != nil:
		return nil, fail("", "invalid JSON: "+d.abort.Error())
	case d.typeErr != nil:
		return nil, d.typeErr
	}
	// The contract's times are UTC; a sender that wrote an offset meant the
	// same instant, and without this the same message would decode to
	// different values depending on how it was written.
	h := s.header(m)
	h.TS = h.TS.UTC()
	if err := P(m).Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// checkTime checks the header's ts as the old decoder did before decoding:
// a string (escapes allowed) that time.Parse takes as RFC 3339.
func checkTime(msg string, raw []byte) error {
	if len(raw) >= 2 && raw[0] == '"' && canonicalTime(raw[1:len(raw)-1]) {
		return nil
	}
	fail := func(problem string) error { return &FieldError{Message: msg, Field: "ts", Problem: problem} }
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return fail("must be an RFC 3339 time string, got " + short(raw))
	}
	if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
		return fail(fmt.Sprintf("must be an RFC 3339 time, got %q", s))
	}
	return nil
}

// canonicalTime reports whether s is an RFC 3339 time that time.Parse
// accepts on its fast path: 2006-01-02T15:04:05[.frac](Z|±hh:mm), each
// number in range. Anything else takes the slow, exact path.
func canonicalTime(s []byte) bool {
	num := func(b []byte, lo, hi int) (int, bool) {
		n := 0
		for _, c := range b {
			if !isDigit(c) {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, lo <= n && n <= hi
	}
	if len(s) < len("2006-01-02T15:04:05Z") || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return false
	}
	year, ok1 := num(s[0:4], 0, 9999)
	month, ok2 := num(s[5:7], 1, 12)
	day, ok3 := num(s[8:10], 1, 31)
	_, ok4 := num(s[11:13], 0, 23)
	_, ok5 := num(s[14:16], 0, 59)
	_, ok6 := num(s[17:19], 0, 59)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || day > daysIn(month, year) {
		return false
	}
	s = s[19:]
	if len(s) >= 2 && s[0] == '.' && isDigit(s[1]) {
		n := 2
		for n < len(s) && isDigit(s[n]) {
			n++
		}
		if n > 10 {
			return false // more digits than nanoseconds: the slow path decides
		}
		s = s[n:]
	}
	if len(s) == 1 && s[0] == 'Z' {
		return true
	}
	if len(s) != len("+07:00") || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
		return false
	}
	_, ok1 = num(s[1:3], 0, 23)
	_, ok2 = num(s[4:6], 0, 59)
	return ok1 && ok2
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
