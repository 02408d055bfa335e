package topics

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// The decoder reads a payload in one pass, straight into the message
// struct, and makes exactly the decisions of the reflective decoder it
// replaced, two passes of encoding/json (FuzzDecodeMatchesOracle holds it to
// them):
//
//   - the grammar of RFC 8259, nesting up to 10000 deep, invalid UTF-8
//     accepted inside strings;
//   - a key selects a field by its exact name, or else by a case-insensitive
//     match (bytes.EqualFold); unknown keys are skipped;
//   - a key given twice decodes twice: scalars and pointers take the last
//     value, a second object merges into the first, a second array
//     overwrites the first one's elements in place (their old content stays
//     where the new one has null), and null clears pointers and slices
//     but leaves other fields alone;
//   - a required field is one whose last exact key is present and not null;
//     an object or a list of objects must hold objects, themselves with their
//     required fields.
//
// Errors come in the order the old decoder found them: invalid JSON first,
// then the first missing required field in struct order, then the header's
// time as a string, then a time that does not parse, then the first value of
// the wrong type in payload order, and last Validate.

// maxDepth is encoding/json's nesting limit: a deeper payload is invalid.
const maxDepth = 10000

// maxPath bounds the nesting of known fields (roster[].faces.front is 3).
const maxPath = 8

type decoder struct {
	buf   []byte
	pos   int
	depth int  // objects and arrays open
	bad   bool // not valid JSON; decoding stops

	abort   error       // first time that does not parse: encoding/json stopped there
	typeErr *FieldError // first value of the wrong type, in payload order

	msg   string          // message name, for errors
	path  [maxPath]string // known fields being decoded, for typeErr
	npath int

	// Room for the message's optional numbers, allocated with it.
	floats []float64
	ints   []int
	// robot is the robot the topic names, if known: a string equal to it
	// (the sender) takes it rather than a copy.
	robot string
}

// decoders are reused: a decoder escapes to the heap through the fields'
// decode functions, and allocating one per message would cost more than
// the pool.
var decoders = sync.Pool{New: func() any { return new(decoder) }}

func newDecoder(msg string, b []byte, robot string) *decoder {
	d := decoders.Get().(*decoder)
	d.buf, d.msg, d.robot = b, msg, robot
	return d
}

// free returns d to the pool, holding on to nothing of the payload or the
// message.
func (d *decoder) free() {
	*d = decoder{}
	decoders.Put(d)
}

func (d *decoder) push(name string) {
	if d.npath < maxPath {
		d.path[d.npath] = name
	}
	d.npath++
}

func (d *decoder) pop() { d.npath-- }

// typeError records a value of the wrong type: want is what the field takes
// ("an integer"), got what the payload has ("string", "number 1.5"). The
// field path has no array indices, as encoding/json reported it.
func (d *decoder) typeError(want, got string) {
	if d.typeErr == nil {
		d.typeErr = &FieldError{Message: d.msg, Field: strings.Join(d.path[:min(d.npath, maxPath)], "."),
			Problem: "must be " + want + ", got " + got}
	}
}

func (d *decoder) space() {
	b, i := d.buf, d.pos
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	d.pos = i
}

// peek skips white space and returns the next byte, or 0 at the end.
func (d *decoder) peek() byte {
	d.space()
	if d.pos < len(d.buf) {
		return d.buf[d.pos]
	}
	return 0
}

// expect consumes c after white space.
func (d *decoder) expect(c byte) bool {
	if d.peek() != c {
		d.bad = true
		return false
	}
	d.pos++
	return true
}

// open enters an object or array at d.pos.
func (d *decoder) open() bool {
	d.depth++
	if d.depth > maxDepth {
		d.bad = true
		return false
	}
	d.pos++
	return true
}

// str scans a string at d.pos. It returns the text between the quotes and
// whether that text is the string itself: no escapes, valid UTF-8.
func (d *decoder) str() (raw []byte, plain bool) {
	b := d.buf
	start := d.pos + 1 // after the opening quote
	ascii := true
	for i := start; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			d.pos = i + 1
			raw = b[start:i]
			return raw, ascii || utf8.Valid(raw)
		case c == '\\':
			d.pos = i
			return d.escaped(start)
		case c < 0x20:
			d.bad = true
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	d.bad = true
	return nil, false
}

// escaped goes on with a string that has an escape at d.pos.
func (d *decoder) escaped(start int) (raw []byte, plain bool) {
	for d.pos < len(d.buf) {
		switch c := d.buf[d.pos]; {
		case c == '"':
			raw = d.buf[start:d.pos]
			d.pos++
			return raw, false
		case c == '\\':
			if !d.escape() {
				return nil, false
			}
			continue
		case c < 0x20:
			d.bad = true
			return nil, false
		}
		d.pos++
	}
	d.bad = true
	return nil, false
}

// escape checks the escape sequence at d.pos and moves past it.
func (d *decoder) escape() bool {
	if d.pos+1 >= len(d.buf) {
		d.bad = true
		return false
	}
	switch d.buf[d.pos+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		d.pos += 2
		return true
	case 'u':
		if d.pos+6 > len(d.buf) {
			d.bad = true
			return false
		}
		for _, h := range d.buf[d.pos+2 : d.pos+6] {
			if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
				d.bad = true
				return false
			}
		}
		d.pos += 6
		return true
	}
	d.bad = true
	return false
}

// text returns a scanned string's value, unescaped as encoding/json does
// (invalid UTF-8 and lone surrogates become U+FFFD).
func text(raw []byte, plain bool) string {
	if plain {
		return string(raw)
	}
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	var s string
	_ = json.Unmarshal(quoted, &s) // raw was checked by str
	return s
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// number scans a number at d.pos: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *decoder) number() []byte {
	start := d.pos
	b := d.buf
	i := d.pos
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		d.bad = true
		return nil
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			d.bad = true
			return nil
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			d.bad = true
			return nil
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	d.pos = i
	return b[start:i]
}

// word consumes the literal true, false or null at d.pos.
func (d *decoder) word(w string) bool {
	if len(d.buf)-d.pos < len(w) || string(d.buf[d.pos:d.pos+len(w)]) != w {
		d.bad = true
		return false
	}
	d.pos += len(w)
	return true
}

// null consumes a null at d.pos if there is one.
func (d *decoder) null() bool {
	if d.peek() == 'n' {
		d.word("null")
		return true
	}
	return false
}

// skip scans one value of any kind and discards it.
func (d *decoder) skip() {
	if c := d.peek(); c != '{' && c != '[' {
		d.scalar()
		return
	}
	d.skipNested()
}

// scalar scans a string, number, true, false or null.
func (d *decoder) scalar() {
	switch c := d.peek(); {
	case c == '"':
		d.str()
	case c == '-' || isDigit(c):
		d.number()
	case c == 't':
		d.word("true")
	case c == 'f':
		d.word("false")
	case c == 'n':
		d.word("null")
	default:
		d.bad = true
	}
}

// skipNested scans an object or array, however deep, without recursion.
func (d *decoder) skipNested() {
	var objects [maxDepth/64 + 1]uint64 // bit n: the container opened n-th by this skip is an object
	level := 0
	for {
		// A value.
		switch c := d.peek(); {
		case c == '{':
			if !d.open() {
				return
			}
			level++
			objects[level/64] |= 1 << (level % 64)
			if d.peek() == '}' {
				break // empty: closed below
			}
			if !d.key() {
				return
			}
			continue
		case c == '[':
			if !d.open() {
				return
			}
			level++
			objects[level/64] &^= 1 << (level % 64)
			if d.peek() == ']' {
				break // empty: closed below
			}
			continue
		default:
			d.scalar()
		}
		// After a value: close what ends here, then the next value.
		for !d.bad {
			if level == 0 {
				return
			}
			object := objects[level/64]&(uint64(1)<<(level%64)) != 0
			c := d.peek()
			if c == ',' {
				d.pos++
				if object && !d.key() {
					return
				}
				break
			}
			if object && c == '}' || !object && c == ']' {
				d.pos++
				d.depth--
				level--
				continue
			}
			d.bad = true
		}
		if d.bad {
			return
		}
	}
}

// key scans an object's key and its colon, discarding the key.
func (d *decoder) key() bool {
	if d.peek() != '"' {
		d.bad = true
		return false
	}
	d.str()
	return !d.bad && d.expect(':')
}

// other consumes a value that is not of the kind a field takes: null is left
// alone, anything else is a type error. want names the field's type.
func (d *decoder) other(want string) {
	switch c := d.peek(); {
	case c == 'n':
		d.word("null")
	case c == '"':
		if d.str(); !d.bad {
			d.typeError(want, "string")
		}
	case c == 't' || c == 'f':
		w := "false"
		if c == 't' {
			w = "true"
		}
		if d.word(w) {
			d.typeError(want, "bool")
		}
	case c == '{':
		if d.skip(); !d.bad {
			d.typeError(want, "object")
		}
	case c == '[':
		if d.skip(); !d.bad {
			d.typeError(want, "array")
		}
	case c == '-' || isDigit(c):
		if d.number(); !d.bad {
			d.typeError(want, "number")
		}
	default:
		d.bad = true
	}
}

// The JSON types of fields, as errors name them.
const (
	tInt    = "an integer"
	tUint   = "a non-negative integer"
	tFloat  = "a number"
	tString = "a string"
	tBool   = "a boolean"
	tArray  = "an array"
	tObject = "an object"
)

func isNumberStart(c byte) bool { return c == '-' || isDigit(c) }

// digits returns the value of a literal of at most 18 decimal digits, an
// optional minus sign in front; ok is false for anything else (a fraction,
// an exponent, more digits), which strconv then decides.
func digits(lit []byte) (n uint64, neg, ok bool) {
	if len(lit) > 0 && lit[0] == '-' {
		neg, lit = true, lit[1:]
	}
	if len(lit) == 0 || len(lit) > 18 {
		return 0, neg, false
	}
	for _, c := range lit {
		if !isDigit(c) {
			return 0, neg, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, neg, true
}

func (d *decoder) int(p *int) {
	if !isNumberStart(d.peek()) {
		d.other(tInt)
		return
	}
	lit := d.number()
	if d.bad {
		return
	}
	if n, neg, ok := digits(lit); ok && n <= math.MaxInt32 {
		*p = int(n)
		if neg {
			*p = -int(n)
		}
		return
	}
	n, err := strconv.ParseInt(string(lit), 10, strconv.IntSize)
	if err != nil {
		d.typeError(tInt, "number "+string(lit))
		return
	}
	*p = int(n)
}

func (d *decoder) uint(p *uint64) {
	if !isNumberStart(d.peek()) {
		d.other(tUint)
		return
	}
	lit := d.number()
	if d.bad {
		return
	}
	if n, neg, ok := digits(lit); ok && !neg {
		*p = n
		return
	}
	n, err := strconv.ParseUint(string(lit), 10, 64)
	if err != nil {
		d.typeError(tUint, "number "+string(lit))
		return
	}
	*p = n
}

// pow10 are the powers of ten that a float64 holds exactly.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

func (d *decoder) float(p *float64) {
	if !isNumberStart(d.peek()) {
		d.other(tFloat)
		return
	}
	lit := d.number()
	if d.bad {
		return
	}
	if f, ok := shortFloat(lit); ok {
		*p = f
		return
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		d.typeError(tFloat, "number "+string(lit))
		return
	}
	*p = f
}

// shortFloat converts a decimal of at most 15 significant digits and no
// exponent, such as 1.25 or -0.3. Both the digits and the power of ten are
// exact in a float64, so one division rounds correctly: the result is
// strconv.ParseFloat's.
func shortFloat(lit []byte) (float64, bool) {
	neg := len(lit) > 0 && lit[0] == '-'
	if neg {
		lit = lit[1:]
	}
	var mant uint64
	n, frac := 0, -1
	for i, c := range lit {
		switch {
		case isDigit(c):
			mant = mant*10 + uint64(c-'0')
			n++
		case c == '.' && frac < 0:
			frac = len(lit) - i - 1
		default:
			return 0, false
		}
	}
	if n > 15 {
		return 0, false
	}
	f := float64(mant)
	if frac > 0 {
		f /= pow10[frac]
	}
	if neg {
		f = -f
	}
	return f, true
}

func (d *decoder) bool(p *bool) {
	switch d.peek() {
	case 't':
		if d.word("true") {
			*p = true
		}
	case 'f':
		if d.word("false") {
			*p = false
		}
	default:
		d.other(tBool)
	}
}

// string decodes a string; a value among known ones (a state, a kind) is
// returned as that constant, without allocating.
func (d *decoder) string(p *string, known []string) {
	if d.peek() != '"' {
		d.other(tString)
		return
	}
	raw, plain := d.str()
	if d.bad {
		return
	}
	if plain {
		for _, k := range known {
			if string(raw) == k {
				*p = k
				return
			}
		}
		if d.robot != "" && string(raw) == d.robot {
			*p = d.robot
			return
		}
	}
	*p = text(raw, plain)
}

// optInt decodes into a pointer: null clears it, a number sets it (reusing
// the pointee of an earlier value of the same key).
func (d *decoder) optInt(p **int) {
	if d.null() {
		*p = nil
		return
	}
	if *p == nil {
		if len(d.ints) == 0 {
			d.ints = make([]int, 2)
		}
		*p, d.ints = &d.ints[0], d.ints[1:]
	}
	d.int(*p)
}

func (d *decoder) optFloat(p **float64) {
	if d.null() {
		*p = nil
		return
	}
	if *p == nil {
		if len(d.floats) == 0 {
			d.floats = make([]float64, 4)
		}
		*p, d.floats = &d.floats[0], d.floats[1:]
	}
	d.float(*p)
}

// short cuts a raw value for an error message.
func short(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}
