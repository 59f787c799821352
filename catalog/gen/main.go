package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/phonehome/phonehome/catalog/internal/importer"
)

func main() {
	src := flag.String("src", "../../shared/catalog-sources", "directory holding the markdown pages and SOURCES.md")
	out := flag.String("out", "data", "directory to write <build>.tsv files into")
	flag.Parse()
	if err := run(*src, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(src, out string) error {
	files, err := importer.Generate(os.DirFS(src), importer.Command)
	if err != nil {
		return err
	}
	old, err := filepath.Glob(filepath.Join(out, "*.tsv"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if _, ok := files[filepath.Base(f)]; !ok {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
