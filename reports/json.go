package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// JSON writes the report as one indented JSON document.
func JSON(w io.Writer, rep *Report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(safeJSON(b), '\n'))
	return err
}

// safeJSON escapes, inside an encoded JSON document, what encoding/json
// leaves raw but a terminal or a viewer may act on: C1 control characters
// (U+0080 to U+009F, U+009B is a CSI on some terminals) and invisible format
// characters such as bidi overrides, those past U+FFFF as a UTF-16
// surrogate pair (a \u escape holds four hex digits). encoding/json already
// escapes C0 controls, <, > and &; invalid UTF-8 it turns into U+FFFD. The
// result is the same JSON value (TestEscapedNamesKeepTheirValue). It returns
// b itself when nothing needs escaping.
func safeJSON(b []byte) []byte {
	i := 0
	for i < len(b) && b[i] < utf8.RuneSelf {
		i++
	}
	if i == len(b) {
		return b
	}
	var out bytes.Buffer
	out.Write(b[:i])
	for i < len(b) {
		r, size := utf8.DecodeRune(b[i:])
		if (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Cf, r) {
			if r1, r2 := utf16.EncodeRune(r); r1 != unicode.ReplacementChar {
				fmt.Fprintf(&out, `\u%04x\u%04x`, r1, r2)
			} else {
				fmt.Fprintf(&out, `\u%04x`, r)
			}
		} else {
			out.Write(b[i : i+size])
		}
		i += size
	}
	return out.Bytes()
}
