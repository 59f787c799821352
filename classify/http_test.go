package classify

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phonehome/phonehome/capture"
)

// TestHTTPPathsKeptAsSent: request paths are case-sensitive (RFC 3986
// section 6.2.2.1) and a trailing dot is part of their last segment, so a
// path is kept byte for byte, where a host name is lower-cased and loses its
// trailing dot.
func TestHTTPPathsKeptAsSent(t *testing.T) {
	pub := netip.MustParseAddr("23.46.237.40")
	long := "/" + strings.Repeat("AbC", 100) // over 255 bytes, capitals
	paths := []string{"/Windows/Update.CAB.", "/windows/update.cab", "/a/B?Q=1&x=Y", "/dir./", long}
	var segs [][]byte
	for _, p := range paths {
		segs = append(segs, []byte("GET "+p+" HTTP/1.1\r\nHost: Download.WindowsUpdate.com.\r\n\r\n"))
	}
	var seen []string
	f := newFeed(t, Config{VM: vm, OnObservation: func(o *Observation) { seen = append(seen, o.Path) }})
	f.conn(50002, pub, 80, segs...)
	got := f.flows()[pub.String()+":80"]
	if got.HTTPHost != "download.windowsupdate.com" {
		t.Errorf("flow Host = %q; want download.windowsupdate.com", got.HTTPHost)
	}
	if !slices.Equal(seen, paths) || !slices.Equal(got.HTTPPaths, paths) {
		t.Errorf("paths read = %q, flow paths = %q; want %q", seen, got.HTTPPaths, paths)
	}
}

// TestInternerKeepsPathsAsSent: intern keeps bytes as they are and, like
// name, allocates only the first time it sees them, whatever their length.
func TestInternerKeepsPathsAsSent(t *testing.T) {
	in := newInterner(16)
	long := []byte("/" + strings.Repeat("AbC", 100))
	for _, tt := range []struct{ in, want string }{
		{"/Windows/Update.CAB.", "/Windows/Update.CAB."},
		{"/x..", "/x.."},
		{string(long), string(long)},
	} {
		if got := in.intern([]byte(tt.in)); got != tt.want {
			t.Errorf("intern(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
	if got := in.name([]byte("WWW.Example.COM..")); got != "www.example.com" {
		t.Errorf("name(WWW.Example.COM..) = %q; want www.example.com", got)
	}
	if n := testing.AllocsPerRun(100, func() { in.intern(long) }); n != 0 {
		t.Errorf("allocations per intern of a %d-byte path seen before = %v; want 0", len(long), n)
	}
}

// TestLongPathsAllocateNothing: a request whose path is over 255 bytes and
// has capitals allocates nothing once its path has been seen.
func TestLongPathsAllocateNothing(t *testing.T) {
	pub := netip.MustParseAddr("23.46.237.40")
	req := []byte("GET /" + strings.Repeat("AbC", 100) + " HTTP/1.1\r\nHost: a.example\r\n\r\n")
	f := newFeed(t, Config{VM: vm, ClosedLinger: time.Second})
	port := uint16(40000)
	connection := func() {
		port++
		f.pkt(6, vm, port, pub, 80, capture.TCPSyn, 100, nil)
		f.pkt(6, vm, port, pub, 80, capture.TCPAck, 101, req)
		f.pkt(6, vm, port, pub, 80, capture.TCPRst, uint32(101+len(req)), nil)
		f.now = f.now.Add(2 * time.Second)
	}
	for range 50 {
		connection()
	}
	if n := testing.AllocsPerRun(200, connection); n != 0 {
		t.Errorf("allocations per connection with a long path (3 packets) = %v; want 0", n)
	}
}
