// Package importer turns the directory of Microsoft's endpoint pages
// (markdown plus SOURCES.md) into the catalog's per-build TSV files. It is
// shared by the generator command (catalog/gen) and by the catalog test that
// checks the committed data is what the generator produces.
//
// The output is deterministic: rows are sorted, build files are keyed by
// name, and headers hold file names and commits, never paths or times.
package importer
