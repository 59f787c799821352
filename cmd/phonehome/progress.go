package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dustin/go-humanize"
)

// progressEvery is how often the progress line is redrawn.
const progressEvery = 250 * time.Millisecond

// progress draws one line on a terminal's stderr during a long run: bytes
// read of the total, packets per second and the time left. It draws nothing
// when stderr is not a terminal (a file, a pipe, CI), or with --quiet.
type progress struct {
	w        io.Writer
	on       bool
	start    time.Time
	lastDraw time.Time
	drawn    bool
}

func newProgress(w io.Writer, quiet bool) *progress {
	return &progress{w: w, on: !quiet && isTerminal(w), start: time.Now()}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// update redraws the line if progressEvery has passed. It is cheap to call
// every few thousand packets.
func (p *progress) update(done, total int64, packets uint64) {
	if !p.on {
		return
	}
	now := time.Now()
	// Runs under a second show nothing: a line that flashes helps no one.
	if now.Sub(p.lastDraw) < progressEvery || now.Sub(p.start) < time.Second {
		return
	}
	p.lastDraw = now
	p.drawn = true
	fmt.Fprintf(p.w, "\r\x1b[K%s", progressLine(done, total, packets, now.Sub(p.start)))
}

// done clears the line, so the report or an error starts on a clean line.
func (p *progress) done() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

// progressLine formats the progress line; split out to be tested. With no
// total (every input a stream, whose length is not known) it gives packets
// and their rate only.
func progressLine(done, total int64, packets uint64, elapsed time.Duration) string {
	if total <= 0 {
		rate := 0.0
		if s := elapsed.Seconds(); s > 0 {
			rate = float64(packets) / s
		}
		return fmt.Sprintf("phonehome: %s packets, %s packets/s, reading a stream",
			humanize.Comma(int64(packets)), humanize.SIWithDigits(rate, 1, ""))
	}
	pct := 0.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(packets) / s
	}
	left := "?"
	if done > 0 && done < total {
		rest := time.Duration(float64(elapsed) * float64(total-done) / float64(done))
		left = rest.Round(time.Second).String()
	} else if done >= total {
		left = "0s"
	}
	return fmt.Sprintf("phonehome: %s of %s (%.0f%%), %s packets, %s packets/s, %s left",
		humanize.Bytes(uint64(done)), humanize.Bytes(uint64(total)), pct,
		humanize.Comma(int64(packets)), humanize.SIWithDigits(rate, 1, ""), left)
}
