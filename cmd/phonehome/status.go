package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/phonehome/phonehome/capture"
	"github.com/phonehome/phonehome/classify"
	"github.com/phonehome/phonehome/reports"
)

// status is what capture says while it runs: on a terminal, one line that
// stays in place with each new undocumented name printed above it; on
// anything else (a service's journal, a file), one log line every interval
// and a line for each new undocumented name. --quiet silences both;
// warnings are always said.
type status struct {
	w     io.Writer
	on    bool // the line and the names are shown
	term  bool
	every time.Duration
	rs    *reportSetup
	start time.Time
	iface string

	lastDraw time.Time
	drawn    bool // a terminal line is on screen

	// Names so far, from a snapshot compared with the pages; taken at most
	// every interval, and no more often than 50 times its own cost, so it
	// stays under 2% of the capture's time however large the run grows.
	lastNames    time.Time
	namesCost    time.Duration
	printed      map[string]bool // undocumented names already said
	documented   int
	undocumented int
}

func newStatus(w io.Writer, quiet, term bool, every time.Duration, rs *reportSetup) *status {
	return &status{w: w, on: !quiet, term: term, every: every, rs: rs, start: time.Now(), printed: map[string]bool{}}
}

// started says where the capture listens, and the gap when it resumes.
func (s *status) started(sess capture.Session, prior *classify.Run) {
	s.iface = sess.Interface
	filter := "no filter"
	if sess.Filter != "" {
		filter = "filter " + fmt.Sprintf("%q", sess.Filter)
	}
	msg := fmt.Sprintf("capturing on %s (%s, snaplen %d, %s)", sess.Interface, sess.LinkType, sess.Snaplen, filter)
	if prior != nil {
		if n := len(prior.Sessions); n > 0 {
			gap := capture.Gap(prior.Sessions[n-1], sess)
			msg += fmt.Sprintf("; resuming the run of %d earlier session(s), after a gap of %s", n, gap.Round(time.Second))
		} else {
			msg += "; resuming the run in the checkpoint"
		}
	}
	s.note(msg)
}

// update redraws the line, or logs it, when its interval has passed.
func (s *status) update(now time.Time, v *classify.View, live *capture.Live, problems func() []string) {
	if !s.on || now.Sub(s.lastDraw) < s.every {
		return
	}
	// Only now: libpcap's counts cost a read of /proc on Linux.
	sess := live.Session()
	s.lastDraw = now
	if now.Sub(s.lastNames) >= max(s.every, 50*s.namesCost) {
		s.names(v.Snapshot())
		s.namesCost = time.Since(now)
		s.lastNames = now
	}
	// The interface's name is the operator's; escaped all the same, as
	// every name that reaches the terminal.
	line := statusLine(now.Sub(s.start), v.Packets(), v.Bytes(), sess, v.LiveFlows(), s.documented, s.undocumented, problems())
	if s.term {
		fmt.Fprintf(s.w, "\r\x1b[K%s", reports.Terminal(line))
		s.drawn = true
		return
	}
	fmt.Fprintf(s.w, "%s %s\n", now.UTC().Format(time.RFC3339), reports.Terminal(line))
}

// names holds run (a snapshot, or the final run) against the pages, and
// says each undocumented name not said before. A name is documented when a
// page of an edition asked for lists it.
func (s *status) names(run *classify.Run) {
	if !s.on {
		return
	}
	rep, err := reports.Compare(run, s.rs.cat, s.rs.eds)
	if err != nil {
		return
	}
	documented := map[string]bool{}
	undocumented := map[string]bool{}
	for _, e := range rep.Editions {
		for _, seen := range e.DocumentedSeen {
			for _, n := range seen.Names {
				documented[n] = true
			}
		}
		for _, u := range e.Undocumented {
			undocumented[u.Name] = true
		}
	}
	var fresh []string
	s.undocumented = 0
	for n := range undocumented {
		if documented[n] {
			continue
		}
		s.undocumented++
		if !s.printed[n] {
			s.printed[n] = true
			fresh = append(fresh, n)
		}
	}
	s.documented = len(documented)
	slices.Sort(fresh)
	for _, n := range fresh {
		s.note("new undocumented name: " + n)
	}
}

// note prints a line above the status line (or as a log line).
func (s *status) note(msg string) {
	msg = reports.Terminal(msg)
	if s.term {
		if s.drawn {
			fmt.Fprint(s.w, "\r\x1b[K")
		}
		fmt.Fprintf(s.w, "phonehome: %s\n", msg)
		s.drawn = false
		s.lastDraw = time.Time{} // redraw at the next poll
		return
	}
	fmt.Fprintf(s.w, "%s phonehome: %s\n", time.Now().UTC().Format(time.RFC3339), msg)
}

// done clears the line, so the report or an error starts on a clean line.
func (s *status) done() {
	if s.term && s.drawn {
		fmt.Fprint(s.w, "\r\x1b[K")
		s.drawn = false
	}
}

// statusLine formats the status; split out to be tested.
func statusLine(elapsed time.Duration, packets, bytes uint64, sess capture.Session, liveFlows, documented, undocumented int, problems []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s on %s: %s packets, %s, drops %s kernel %s interface, %s live flows, names %d documented %d undocumented",
		elapsed.Round(time.Second), sess.Interface, humanize.Comma(int64(packets)), humanize.Bytes(bytes),
		humanize.Comma(int64(sess.Dropped)), humanize.Comma(int64(sess.IfDropped)), humanize.Comma(int64(liveFlows)), documented, undocumented)
	for _, p := range problems {
		b.WriteString("; ")
		b.WriteString(strings.ToUpper(p))
	}
	return b.String()
}
