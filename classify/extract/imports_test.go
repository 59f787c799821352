package extract

import (
	"go/build"
	"testing"
)

// The parsers stay pure: no I/O, nothing of ours, no gopacket. Only these standard packages may be imported.
func TestImportsArePure(t *testing.T) {
	allowed := map[string]bool{"bytes": true}
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if !allowed[imp] {
			t.Errorf("classify/extract imports %q; want only %v", imp, allowed)
		}
	}
}
