package classify

// interner keeps one string per distinct name or path, so that those read
// from packets are converted to strings once and compared cheaply afterwards.
// It is bounded: past its capacity it still returns correct strings, it just
// stops sharing.
type interner struct {
	m        map[string]string
	capacity int
}

func newInterner(capacity int) *interner {
	return &interner{m: make(map[string]string), capacity: capacity}
}

// name returns the normalised form of a host name b as a string: ASCII lower
// case, without a trailing dot. Other bytes are kept as seen (rendering
// escapes them). Names are at most 255 bytes (callers clip them), lowered on
// the stack; a longer b is lowered in a copy, which allocates. It allocates
// otherwise only the first time a name is seen.
func (in *interner) name(b []byte) string {
	for len(b) > 0 && b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	var stack [256]byte // lower-cased copy, on the stack for names up to 255 bytes
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			l := stack[:0]
			if len(b) > len(stack) {
				l = make([]byte, 0, len(b))
			}
			for _, c := range b {
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				l = append(l, c)
			}
			b = l
			break
		}
	}
	return in.intern(b)
}

// intern returns b as a string, bytes as they are. HTTP request paths go
// through it, not through name: a path is case-sensitive (RFC 3986 section
// 6.2.2.1) and a trailing dot is part of its last segment, so
// "/Windows/Update.CAB." is kept as sent. (The matcher compares paths with
// the pages' ASCII case-insensitively, on purpose: see classify/match.) It
// allocates only the first time b is seen.
func (in *interner) intern(b []byte) string {
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in.m) < in.capacity {
		in.m[s] = s
	}
	return s
}
