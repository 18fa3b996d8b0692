package adaptor

import (
	"errors"
)

// errNotObject means a body is not one JSON object.
var errNotObject = errors.New("the body is not a JSON object")

// SetField returns obj with its top-level field key set to val (raw JSON),
// every other byte unchanged: pass-through replaces the model name this
// way, so fields this relay does not know, their order and their spacing
// all survive. A missing field is added before the closing brace. obj must
// be a JSON object; SetField does not validate what it skips over beyond
// what finding the field needs, and never writes into obj.
func SetField(obj []byte, key string, val []byte) ([]byte, error) {
	start, end, closing, err := fieldSpan(obj, key)
	if err != nil {
		return nil, err
	}
	if start >= 0 {
		out := make([]byte, 0, len(obj)-(end-start)+len(val))
		out = append(out, obj[:start]...)
		out = append(out, val...)
		return append(out, obj[end:]...), nil
	}
	// Add the field right after the last member (or the opening brace),
	// before any space that precedes the closing brace.
	at := closing
	for at > 0 {
		c := obj[at-1]
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			break
		}
		at--
	}
	empty := obj[at-1] == '{'
	out := make([]byte, 0, len(obj)+len(key)+len(val)+4)
	out = append(out, obj[:at]...)
	if !empty {
		out = append(out, ',')
	}
	out = append(out, '"')
	out = append(out, key...)
	out = append(out, '"', ':')
	out = append(out, val...)
	return append(out, obj[at:]...), nil
}

// Field returns the value of obj's top-level field key as written; ok is
// false when obj has no such field or is not an object.
func Field(obj []byte, key string) (val []byte, ok bool) {
	start, end, _, err := fieldSpan(obj, key)
	if err != nil || start < 0 {
		return nil, false
	}
	return obj[start:end], true
}

// fieldSpan finds the value of top-level field key in obj: its start and
// end offsets (-1, -1 when absent) and the offset of the object's closing
// brace. Keys are compared as written, so a key spelt with escapes is not
// matched (no client writes "model" that way).
func fieldSpan(obj []byte, key string) (start, end, closing int, err error) {
	start, end = -1, -1
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return 0, 0, 0, errNotObject
	}
	i = skipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return start, end, i, nil
	}
	for {
		if i >= len(obj) || obj[i] != '"' {
			return 0, 0, 0, errNotObject
		}
		ks := i + 1
		ke, ok := skipString(obj, i)
		if !ok {
			return 0, 0, 0, errNotObject
		}
		name := obj[ks : ke-1]
		i = skipSpace(obj, ke)
		if i >= len(obj) || obj[i] != ':' {
			return 0, 0, 0, errNotObject
		}
		i = skipSpace(obj, i+1)
		vs := i
		ve, ok := skipValue(obj, i)
		if !ok {
			return 0, 0, 0, errNotObject
		}
		if string(name) == key {
			start, end = vs, ve
		}
		i = skipSpace(obj, ve)
		if i >= len(obj) {
			return 0, 0, 0, errNotObject
		}
		switch obj[i] {
		case ',':
			i = skipSpace(obj, i+1)
		case '}':
			return start, end, i, nil
		default:
			return 0, 0, 0, errNotObject
		}
	}
}

func skipSpace(b []byte, i int) int {
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

// skipString returns the offset after the string starting at b[i] == '"'.
func skipString(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// skipValue returns the offset after the value starting at b[i].
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				e, ok := skipString(b, j)
				if !ok {
					return 0, false
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return 0, false
	default:
		j := i
		for j < len(b) {
			switch b[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				if j == i {
					return 0, false
				}
				return j, true
			}
			j++
		}
		return 0, false
	}
}
