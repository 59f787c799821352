package phonehome_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/phonehome/phonehome"

// TestImportDirection keeps the packages in the order packets travel
// (source, decode, extract, attribute, aggregate, diff, render): each
// package may depend, directly or through others, only on the packages of
// ours listed for it.
func TestImportDirection(t *testing.T) {
	allowed := map[string][]string{
		"capture":          {},
		"classify/extract": {},
		"classify/match":   {},
		"catalog":          {},
		"classify":         {"capture", "classify/extract", "classify/match", "catalog"},
		"reports":          {"classify", "classify/match", "catalog", "capture", "classify/extract"},
	}
	for pkg, ok := range allowed {
		out, err := exec.Command("go", "list", "-deps", "./"+pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps ./%s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			rel, ours := strings.CutPrefix(dep, module+"/")
			if !ours || rel == pkg || strings.Contains(rel, "/internal/") && strings.HasPrefix(rel, pkg+"/") {
				continue
			}
			permitted := false
			for _, a := range ok {
				if rel == a {
					permitted = true
				}
			}
			if !permitted {
				t.Errorf("%s imports %s; it may import only %v of ours", pkg, rel, ok)
			}
		}
	}
	// The wire parsers stay free of gopacket: pure functions over bytes.
	out, err := exec.Command("go", "list", "-deps", "./classify/extract").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "gopacket") {
		t.Errorf("classify/extract depends on gopacket; its parsers take []byte only")
	}
}
