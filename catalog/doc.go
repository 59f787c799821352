// Package catalog is the endpoint data Microsoft documents per Windows build
// and edition ("connection endpoints" pages), embedded as reviewable TSV
// files in data/ and loaded with Load.
//
// The data is generated, never edited: `go generate ./catalog` runs ./gen,
// which parses the markdown pages in ../shared/catalog-sources (relative to
// the repository root; see catalog/README.md for the page formats and the
// edition rule) and rewrites data/<build>.tsv. TestGeneratedDataUpToDate
// fails when the committed files differ from what the generator produces.
//
// Edition rule: the Enterprise edition of a build is its Enterprise page.
// Home, Pro and Education are their own section of the build's
// non-Enterprise page plus every Enterprise entry, because the
// non-Enterprise pages say they list endpoints "in addition to the endpoints
// listed for Windows 10 Enterprise". Entry.Listed keeps which page
// documented a row, so a report can tell "on the Enterprise base" from "on
// the Home page".
//
// Beside the embedded data: Parse and LoadFile read a user catalog (a TSV
// file of one's own, documented in the repository README, The catalog) into
// the same Catalog, every error at its file and line; Diff lists how an
// edition's endpoints differ between two catalogs, keyed by EndpointKey;
// Validate checks a page or a user catalog and reports every problem as
// FILE:LINE. phonehome catalog (cmd/phonehome) is their command line.
//
// The package imports nothing of phonehome's. Load parses on every call
// (BenchmarkLoad, 2026-11-29: about 1 ms for the largest build; once, cold,
// inside a whole run, about 2 ms: README, Where the time goes) and returns a
// Catalog the caller owns; a Catalog is not modified by its methods and may
// be read concurrently.
package catalog
