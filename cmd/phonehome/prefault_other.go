//go:build !linux

package main

// prefaultHeap is for Linux only (see prefault_linux.go).
func prefaultHeap(int) {}
