//go:build cgo

package capture

import (
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phonehome/phonehome/internal/testenv"
)

// TestLiveLoopback captures UDP datagrams this test sends to itself on the
// loopback interface, through a filter for the test's own port: each comes
// out of Next decoded, an idle wait says ErrIdle, Stop ends the session,
// and libpcap's counts are in it.
func TestLiveLoopback(t *testing.T) {
	testenv.NeedRoot(t, "live capture opens a packet socket")
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	port := conn.LocalAddr().(*net.UDPAddr).Port
	filter := "udp and dst port " + strconv.Itoa(port)
	l, err := OpenLive("lo", LiveOptions{Filter: filter, Immediate: true, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var tapped int
	l.Tap = func(time.Time, []byte, int) { tapped++ }

	const sent = 5
	for i := 0; i < sent; i++ {
		if _, err := conn.WriteToUDP([]byte("phonehome live test"), conn.LocalAddr().(*net.UDPAddr)); err != nil {
			t.Fatal(err)
		}
	}
	var got, idles int
	deadline := time.Now().Add(5 * time.Second)
	for got < sent && time.Now().Before(deadline) {
		var p Packet
		switch err := l.Next(&p); err {
		case nil:
			got++
			if p.L3 != L3IPv4 || p.Proto != 17 || int(p.DstPort) != port || string(p.Payload) != "phonehome live test" {
				t.Errorf("packet %d: L3 %v proto %d port %d payload %q; want the test's datagram to port %d", got, p.L3, p.Proto, p.DstPort, p.Payload, port)
			}
		case ErrIdle:
			idles++
		default:
			t.Fatalf("Next = %v", err)
		}
	}
	if got != sent || tapped != sent {
		t.Fatalf("read %d packets, tapped %d; want %d", got, tapped, sent)
	}
	// Nothing more comes: the next reads say idle.
	var p Packet
	if err := l.Next(&p); err != ErrIdle {
		t.Errorf("Next with nothing to read = %v; want ErrIdle", err)
	}
	l.Stop(EndStopped)
	if err := l.Next(&p); err != io.EOF {
		t.Errorf("Next after Stop = %v; want io.EOF", err)
	}
	s := l.Session()
	if s.Ended != EndStopped || s.Interface != "lo" || s.Filter != filter || s.Received < sent {
		t.Errorf("Session = %+v; want ended %q on lo with filter %q and at least %d received", s, EndStopped, filter, sent)
	}
	st := l.Stats()
	if st.Frames != sent || len(st.Sessions) != 1 {
		t.Errorf("Stats = %d frames, %d sessions; want %d and 1", st.Frames, len(st.Sessions), sent)
	}
}

// TestLiveOpenErrors checks that what libpcap refuses is said so a person
// can act on it.
func TestLiveOpenErrors(t *testing.T) {
	testenv.NeedRoot(t, "live capture opens a packet socket")
	for _, tc := range []struct {
		name, iface, filter string
		want                []string
	}{
		{"unknown_interface", "nosuch0", "", []string{"no such interface", "lo", "phonehome interfaces"}},
		{"bad_filter", "lo", "tcp port", []string{`--filter "tcp port"`, "libpcap rejects it"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := OpenLive(tc.iface, LiveOptions{Filter: tc.filter})
			if err == nil {
				l.Close()
				t.Fatalf("OpenLive(%q, filter %q) = nil error", tc.iface, tc.filter)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("OpenLive(%q, filter %q) = %q; want it to say %q", tc.iface, tc.filter, err, w)
				}
			}
		})
	}
}

// TestLiveOpenErrorsAreMarked checks that the errors in what OpenLive was
// asked can be told apart (the command makes them usage errors).
func TestLiveOpenErrorsAreMarked(t *testing.T) {
	testenv.NeedRoot(t, "live capture opens a packet socket")
	if _, err := OpenLive("nosuch0", LiveOptions{}); !errors.Is(err, ErrNoSuchInterface) {
		t.Errorf("OpenLive(nosuch0) = %v; want an ErrNoSuchInterface", err)
	}
	if _, err := OpenLive("lo", LiveOptions{Filter: "tcp port"}); !errors.Is(err, ErrBadFilter) {
		t.Errorf("OpenLive(lo, bad filter) = %v; want an ErrBadFilter", err)
	}
}
