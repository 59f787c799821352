// Generator for phonehome's test captures. A module of its own so that the
// main module never builds it (the go tool also skips testdata/). Standard
// library only.
module github.com/phonehome/phonehome/testdata/gen

go 1.26
