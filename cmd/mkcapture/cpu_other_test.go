//go:build !unix

package main

// processCPU is 0 where getrusage is missing: BenchmarkPipeline then reports
// wall time only.
func processCPU() int64 { return 0 }
