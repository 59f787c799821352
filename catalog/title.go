package catalog

import "strings"

// BuildTitle names a build as people do, for reports and messages:
// "windows-10-1909" is "Windows 10 1909", "windows-11" is "Windows 11". A
// name not of that form is returned as it is.
func BuildTitle(build string) string {
	rest, ok := strings.CutPrefix(build, "windows-")
	if !ok || rest == "" {
		return build
	}
	return "Windows " + strings.ReplaceAll(rest, "-", " ")
}
