// Package scan reads the few fields of a JSON body that pass-through
// needs without decoding the rest: no maps, no structs, no copies of the
// values it steps over. On a valid body every step here is exact, so the
// skipping can be plain. On any other input it never panics and reads
// something or nothing (TestScanNeverPanics): a caller that must reject
// invalid JSON (a client's body) checks it with Valid first, and one
// that only meters an upstream's answer on its way through need not.
package scan

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

func space(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// end returns the offset just past the value starting at b[i] (valid JSON).
func end(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return strEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = strEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) {
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j
		}
		j++
	}
	return j
}

// strEnd returns the offset past the string starting at b[i] == '"'.
func strEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		// Eight bytes at a time while none is a quote or a backslash.
		for j+8 <= len(b) && !quoteOrSlash(binary.LittleEndian.Uint64(b[j:])) {
			j += 8
		}
		if j >= len(b) {
			break
		}
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// Object steps through the members of a JSON object.
type Object struct {
	b []byte
	i int
}

// ObjectOf starts on v, which must be a valid JSON value; ok is false
// when it is not an object.
func ObjectOf(v []byte) (Object, bool) {
	i := space(v, 0)
	if i >= len(v) || v[i] != '{' {
		return Object{}, false
	}
	return Object{b: v, i: i + 1}, true
}

// Next returns the next member: its key as written (without quotes) and
// its value's bytes.
func (o *Object) Next() (key, val []byte, ok bool) {
	b := o.b
	i := space(b, o.i)
	if i < len(b) && b[i] == ',' {
		i = space(b, i+1)
	}
	if i >= len(b) || b[i] != '"' {
		return nil, nil, false
	}
	ke := strEnd(b, i)
	if ke-1 <= i {
		return nil, nil, false // an unterminated key at the end
	}
	key = b[i+1 : ke-1]
	i = space(b, ke)
	if i >= len(b) || b[i] != ':' {
		return nil, nil, false
	}
	i = space(b, i+1)
	if i >= len(b) {
		return nil, nil, false
	}
	ve := end(b, i)
	if ve == i {
		return nil, nil, false // no value where one belongs
	}
	val = b[i:ve]
	o.i = ve
	return key, val, true
}

// Array steps through the elements of a JSON array.
type Array struct {
	b []byte
	i int
}

// ArrayOf starts on v, a valid JSON value; ok is false when it is not an
// array.
func ArrayOf(v []byte) (Array, bool) {
	i := space(v, 0)
	if i >= len(v) || v[i] != '[' {
		return Array{}, false
	}
	return Array{b: v, i: i + 1}, true
}

// Next returns the next element's bytes.
func (a *Array) Next() ([]byte, bool) {
	b := a.b
	i := space(b, a.i)
	if i < len(b) && b[i] == ',' {
		i = space(b, i+1)
	}
	if i >= len(b) || b[i] == ']' {
		return nil, false
	}
	e := end(b, i)
	if e == i {
		return nil, false // a delimiter where a value belongs
	}
	a.i = e
	return b[i:e], true
}

// Is reports whether key (as written) is name exactly, as a map key
// matches.
func Is(key []byte, name string) bool {
	if bytes.IndexByte(key, '\\') < 0 {
		return string(key) == name
	}
	s, ok := unquote(key)
	return ok && s == name
}

// Fold reports whether key (as written) names struct field name the way
// encoding/json matches one: without regard to case.
func Fold(key []byte, name string) bool {
	if bytes.IndexByte(key, '\\') < 0 {
		return bytes.EqualFold(key, []byte(name))
	}
	s, ok := unquote(key)
	return ok && bytes.EqualFold([]byte(s), []byte(name))
}

func unquote(inner []byte) (string, bool) {
	q := make([]byte, 0, len(inner)+2)
	q = append(q, '"')
	q = append(q, inner...)
	q = append(q, '"')
	var s string
	return s, json.Unmarshal(q, &s) == nil
}

// IsNull reports a JSON null.
func IsNull(v []byte) bool { return string(v) == "null" }

// IsString reports a JSON string (at least its quotes).
func IsString(v []byte) bool { return len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' }

// String decodes a JSON string; ok is false for any other value.
func String(v []byte) (string, bool) {
	if !IsString(v) {
		return "", false
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), true
	}
	// Escapes, or invalid UTF-8 (which encoding/json turns into U+FFFD).
	return unquote(inner)
}

// Plain returns the bytes of string v written without escapes (they are
// then its value); ok is false for other values and escaped strings.
func Plain(v []byte) ([]byte, bool) {
	if !IsString(v) || bytes.IndexByte(v, '\\') >= 0 {
		return nil, false
	}
	return v[1 : len(v)-1], true
}

// StringIs reports whether v is the JSON string s.
func StringIs(v []byte, s string) bool {
	if !IsString(v) {
		return false
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner) == s
	}
	d, ok := unquote(inner)
	return ok && d == s
}

// Len is the length of string v as written, which bounds its decoded
// length from above for valid UTF-8 (every escape is at least as long as
// what it stands for); 0 for a value that is not a string.
func Len(v []byte) int {
	if !IsString(v) {
		return 0
	}
	return len(v) - 2
}

// Bool reads true or false; ok is false for any other value.
func Bool(v []byte) (val, ok bool) {
	switch string(v) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// Int reads a JSON number that encoding/json would decode into an int:
// an integer literal without fraction or exponent, in range.
func Int(v []byte) (int, bool) {
	if len(v) == 0 || len(v) > 20 {
		return 0, false
	}
	for _, c := range v {
		if (c < '0' || c > '9') && c != '-' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(string(v))
	return n, err == nil
}

// Ints reads the integer members of v named by names into dst (dst[i]
// for names[i]) as encoding/json decodes an object into a struct of int
// fields: names matched without regard to case, the last of a name
// written twice winning, null leaving a field as it is. ok is false when
// v is neither an object nor null, or a named member is not an integer.
func Ints(v []byte, names []string, dst ...*int) bool {
	if IsNull(v) {
		return true
	}
	o, ok := ObjectOf(v)
	if !ok {
		return false
	}
	for k, val, more := o.Next(); more; k, val, more = o.Next() {
		for i, name := range names {
			if !Fold(k, name) {
				continue
			}
			if !IntInto(dst[i], val) {
				return false
			}
			break
		}
	}
	return true
}

// IntInto reads integer v into dst as encoding/json decodes one into an
// int field: null leaves dst as it is; ok is false for anything else that
// is not an integer.
func IntInto(dst *int, v []byte) bool {
	if IsNull(v) {
		return true
	}
	n, ok := Int(v)
	if ok {
		*dst = n
	}
	return ok
}

// AppendString appends the value of JSON string v to dst, decoding its
// escapes, without an intermediate string; a value that is not a string
// appends nothing. v must come from a valid JSON text. Invalid UTF-8 is
// copied as it is (encoding/json would write U+FFFD): the result feeds
// token counts, where that does not matter.
func AppendString(dst, v []byte) []byte {
	if !IsString(v) {
		return dst
	}
	s := v[1 : len(v)-1]
	for {
		i := bytes.IndexByte(s, '\\')
		if i < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:i]...)
		s = s[i:]
		if len(s) < 2 {
			return dst
		}
		switch c := s[1]; c {
		case 'n':
			dst = append(dst, '\n')
		case 't':
			dst = append(dst, '\t')
		case 'r':
			dst = append(dst, '\r')
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'u':
			r, n := hexRune(s)
			if n == 0 { // not four hex digits: step over the two bytes
				r, n = utf8.RuneError, 2
			}
			if r >= 0xD800 && r < 0xDC00 {
				if r2, n2 := hexRune(s[n:]); r2 >= 0xDC00 && r2 < 0xE000 {
					r = (r-0xD800)<<10 + (r2 - 0xDC00) + 0x10000
					n += n2
				} else {
					r = utf8.RuneError
				}
			} else if r >= 0xDC00 && r < 0xE000 {
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			s = s[n:]
			continue
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
		s = s[2:]
	}
}

// hexRune reads \uXXXX at the start of s; n is 0 when s does not start so.
func hexRune(s []byte) (r rune, n int) {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return utf8.RuneError, 0
	}
	for _, c := range s[2:6] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return utf8.RuneError, 0
		}
	}
	return r, 6
}

// EndsObject reports whether b's last byte that is not space closes an
// object: a cheap sign that an answer read without json.Valid was not cut.
func EndsObject(b []byte) bool {
	for i := len(b) - 1; i >= 0; i-- {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return b[i] == '}'
	}
	return false
}
