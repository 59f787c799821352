package reports

import (
	"fmt"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/phonehome/phonehome/capture"
	"github.com/phonehome/phonehome/classify"
)

// CaptureSession is one live capture session (phonehome capture) as the
// report gives it: the session, and the gap before it when the capture was
// resumed.
type CaptureSession struct {
	capture.Session
	// GapBeforeSeconds is how long the capture was not running before
	// this session started (since the previous one ended, or its last
	// checkpoint when it did not end cleanly); 0 for the first.
	GapBeforeSeconds float64 `json:"gap_before_seconds"`
}

// captureSessions lists the run's sessions with their gaps, and what in
// them leaves the run incomplete: drops, gaps, an unclean or forced end,
// packets not written, a failed checkpoint. The pages' method needs
// complete logs, so each is a warning in every report.
func captureSessions(run *classify.Run) (sessions []CaptureSession, warnings []string) {
	for i, s := range run.Sessions {
		cs := CaptureSession{Session: s}
		n := fmt.Sprintf("session %d of %d (%s)", i+1, len(run.Sessions), s.Interface)
		if len(run.Sessions) == 1 {
			n = "the capture on " + s.Interface
		}
		if i > 0 {
			prev := run.Sessions[i-1]
			if gap := capture.Gap(prev, s); gap > 0 {
				cs.GapBeforeSeconds = gap.Seconds()
				warnings = append(warnings, fmt.Sprintf("the capture was not running for %s, from %s to %s UTC: traffic then is missing; "+
					"a connection open across the gap is counted in both sessions, and a DNS answer from before it names no flow after it",
					span(gap), prev.End.UTC().Format(time.DateTime), s.Start.UTC().Format(time.DateTime)))
			}
		}
		if lost := s.Dropped + s.IfDropped; lost > 0 {
			warnings = append(warnings, fmt.Sprintf("%s: libpcap dropped %s of %s (kernel %s, interface %s): the run misses traffic; give a larger --buffer-size",
				n, count(lost, "packet"), humanize.Comma(int64(s.Received+lost)), humanize.Comma(int64(s.Dropped)), humanize.Comma(int64(s.IfDropped))))
		}
		switch {
		case s.Ended == capture.EndRunning && i == len(run.Sessions)-1:
			warnings = append(warnings, fmt.Sprintf("%s was still running, or stopped without ending cleanly (a crash, a kill, a power cut), after %s UTC: this is the run up to that checkpoint",
				n, s.End.UTC().Format(time.DateTime)))
		case s.Ended == capture.EndRunning:
			warnings = append(warnings, fmt.Sprintf("%s stopped without ending cleanly after its last checkpoint, at %s UTC", n, s.End.UTC().Format(time.DateTime)))
		case strings.HasPrefix(s.Ended, capture.EndInterfaceDown), strings.HasPrefix(s.Ended, capture.EndReadError):
			warnings = append(warnings, fmt.Sprintf("%s ended at %s UTC: %s", n, s.End.UTC().Format(time.DateTime), s.Ended))
		}
		if s.WriteError != "" || s.WriteLost > 0 {
			warnings = append(warnings, fmt.Sprintf("%s: --write failed (%s): %s not written to the files", n, s.WriteError, count(s.WriteLost, "packet")))
		}
		if s.CheckpointError != "" {
			warnings = append(warnings, fmt.Sprintf("%s: the last checkpoint failed (%s)", n, s.CheckpointError))
		}
		sessions = append(sessions, cs)
	}
	return sessions, warnings
}

// sessionLine describes a session in one line, escaped by esc.
func sessionLine(s CaptureSession, esc func(string) string) string {
	filter := "no filter"
	if s.Filter != "" {
		filter = "filter " + esc(fmt.Sprintf("%q", s.Filter))
	}
	promisc := ""
	if s.Promiscuous {
		promisc = ", promiscuous"
	}
	return fmt.Sprintf("%s (%s), %s, snaplen %d%s; %s to %s UTC (%s), ended: %s; %s received, %s dropped",
		esc(s.Interface), esc(s.LinkType), filter, s.Snaplen, promisc,
		s.Start.UTC().Format("2006-"+timeLayout), s.End.UTC().Format("2006-"+timeLayout), span(s.End.Sub(s.Start)), esc(s.Ended),
		humanize.Comma(int64(s.Received)), humanize.Comma(int64(s.Dropped+s.IfDropped)))
}
