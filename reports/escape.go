package reports

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Terminal makes s safe to print on a terminal: control characters (C0, DEL,
// C1, so no ANSI escape sequence), invalid UTF-8, and invisible or
// direction-changing format characters (bidi overrides, zero-width) are
// shown as Go escapes. Printable text, non-ASCII included, is kept as seen:
// an internationalised name looks like itself. A backslash is doubled so an
// escape in the output cannot be confused with one in the input.
func Terminal(s string) string {
	if isPlainASCII(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.Is(unicode.Cf, r) || !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}
