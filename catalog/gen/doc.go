// Command gen regenerates the catalog's data files from Microsoft's endpoint
// pages. It is run by go generate in the catalog directory:
//
//	go run ./gen -src ../../shared/catalog-sources -out data
//
// It writes one <build>.tsv per build, removes .tsv files for builds that no
// longer exist, and fails without writing anything if any page has a row it
// cannot read (the error lists them as file:line).
package main
