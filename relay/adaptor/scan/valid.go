package scan

import "encoding/binary"

// Valid reports whether b is one JSON value with optional white space
// around it, exactly as encoding/json.Valid does (FuzzValid holds the two
// to the same answer, nesting limit included), without its per-byte state
// machine: a client's body is checked on every relayed call, and
// json.Valid read it at about 350 MB/s, 0.3 ms for a 100 KB prompt.
func Valid(b []byte) bool {
	v := validator{b: b}
	i := space(b, 0)
	i = v.value(i)
	return i >= 0 && space(b, i) == len(b)
}

// maxDepth is encoding/json's nesting limit: 10,000 open arrays and
// objects are accepted, one more is not.
const maxDepth = 10000

type validator struct {
	b []byte
	// open holds one bit per open container, set for an object: the
	// first 256 levels in place, so that a body's check neither allocates
	// nor puts a large frame on the request's stack, deeper ones in deep.
	open  [4]uint64
	deep  []uint64
	depth int
}

// push opens a container at the current depth.
func (v *validator) push(obj bool) {
	w, bit := v.word(v.depth)
	if obj {
		*w |= bit
	} else {
		*w &^= bit
	}
	v.depth++
}

// inObject reports whether the innermost open container is an object.
func (v *validator) inObject() bool {
	w, bit := v.word(v.depth - 1)
	return *w&bit != 0
}

func (v *validator) word(d int) (*uint64, uint64) {
	bit := uint64(1) << (d % 64)
	if d < 64*len(v.open) {
		return &v.open[d/64], bit
	}
	d -= 64 * len(v.open)
	for len(v.deep) <= d/64 {
		v.deep = append(v.deep, 0)
	}
	return &v.deep[d/64], bit
}

// plain marks the bytes a string may hold as they are: not a control
// character, a quote or a backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// value checks the value at b[i] and every value it opens, and returns the
// offset past it, or -1.
func (v *validator) value(i int) int {
	b := v.b
	for {
		if i >= len(b) {
			return -1
		}
		// One value, scalar or the start of a container.
		switch c := b[i]; {
		case c == '"':
			if i = v.str(i); i < 0 {
				return -1
			}
		case c == '{' || c == '[':
			if v.depth == maxDepth {
				return -1
			}
			obj := c == '{'
			v.push(obj)
			i = space(b, i+1)
			if i < len(b) && (obj && b[i] == '}' || !obj && b[i] == ']') {
				v.depth--
				i++
				break
			}
			if obj {
				if i = v.key(i); i < 0 {
					return -1
				}
			}
			continue
		case c == 't':
			if i = lit(b, i, "true"); i < 0 {
				return -1
			}
		case c == 'f':
			if i = lit(b, i, "false"); i < 0 {
				return -1
			}
		case c == 'n':
			if i = lit(b, i, "null"); i < 0 {
				return -1
			}
		case c == '-' || c >= '0' && c <= '9':
			if i = number(b, i); i < 0 {
				return -1
			}
		default:
			return -1
		}
		// After a value: the next member, or the close of containers.
		for {
			if v.depth == 0 {
				return i
			}
			i = space(b, i)
			if i >= len(b) {
				return -1
			}
			obj := v.inObject()
			switch c := b[i]; {
			case c == ',':
				i = space(b, i+1)
				if obj {
					if i = v.key(i); i < 0 {
						return -1
					}
				}
			case obj && c == '}' || !obj && c == ']':
				v.depth--
				i++
				continue
			default:
				return -1
			}
			break
		}
	}
}

// key checks an object's `"name" :` at b[i] and returns the offset of the
// member's value.
func (v *validator) key(i int) int {
	if i >= len(v.b) || v.b[i] != '"' {
		return -1
	}
	if i = v.str(i); i < 0 {
		return -1
	}
	i = space(v.b, i)
	if i >= len(v.b) || v.b[i] != ':' {
		return -1
	}
	return space(v.b, i+1)
}

// str checks the string at b[i] == '"' and returns the offset past it.
func (v *validator) str(i int) int {
	b := v.b
	for i++; ; i++ {
		// Eight bytes at a time while none of them is a quote, a backslash
		// or a control character: prompts are mostly long plain strings.
		for i+8 <= len(b) && !special(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case '"':
			return i + 1
		case '\\':
			i++
			if i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) || !isHex(b[i+1]) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) {
					return -1
				}
				i += 4
			default:
				return -1
			}
		default:
			return -1 // a control character
		}
	}
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special reports whether any of the eight bytes in x is below 0x20, a
// quote or a backslash (the bit tricks are exact for whether, not where).
func special(x uint64) bool {
	return ((x-0x20*ones)&^x)&highs != 0 || quoteOrSlash(x)
}

// quoteOrSlash reports whether any of the eight bytes in x is a quote or
// a backslash.
func quoteOrSlash(x uint64) bool {
	quote := x ^ '"'*ones
	slash := x ^ '\\'*ones
	return ((quote-ones)&^quote|(slash-ones)&^slash)&highs != 0
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func lit(b []byte, i int, word string) int {
	if len(b)-i < len(word) || string(b[i:i+len(word)]) != word {
		return -1
	}
	return i + len(word)
}

// number checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at b[i].
func number(b []byte, i int) int {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}
