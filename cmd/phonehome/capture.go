package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/phonehome/phonehome/capture"
	"github.com/phonehome/phonehome/classify"
	"github.com/phonehome/phonehome/reports"
)

type captureOptions struct {
	reportOptions
	vm              string
	flows           string
	quiet           bool
	iface           string
	filter          string
	duration        time.Duration
	write           string
	rotate          time.Duration
	rotateSize      string
	gzip            bool
	checkpoint      string
	checkpointEvery time.Duration
	snaplen         int
	promisc         bool
	bufferSize      string
	immediate       bool
	user            string
	statusEvery     time.Duration
	label           string
}

// errInterfaceDown is returned when the capture ended because its interface
// went down or away; the report was written.
var errInterfaceDown = errors.New("interface went down")

func newCaptureCmd() *cobra.Command {
	opt := captureOptions{}
	cmd := &cobra.Command{
		Use:   "capture -i IFACE",
		Short: "Capture a VM's traffic live and report it against the documented endpoints",
		Long: `capture listens on an interface through libpcap (the VM's bridge or tap on its
host), names every IPv4 flow the VM starts towards a public address as analyze
does, and when it stops (Ctrl-C, SIGTERM, the end of --duration) writes the
report analyze would write for the same packets. It is passive: it never sends
a packet and never resolves a name.

While it runs it shows one status line on a terminal (elapsed time, packets,
bytes, libpcap's drops, live flows, documented and undocumented names so far),
and prints each new undocumented name above it; elsewhere (a service, a pipe)
it logs one line every --status-every. SIGHUP writes a checkpoint and an
interim report (to -o, or stdout) without stopping.

--checkpoint DIR keeps the run record in DIR/run.json.gz, written atomically
every --checkpoint-every: after a crash, "phonehome report DIR" gives the report
up to the last checkpoint, and capture started again with the same DIR resumes
and merges, the report naming the gap. --write DIR keeps the packets as pcapng,
rotated, so the week can be analysed again ("phonehome analyze DIR").

Capturing needs CAP_NET_RAW and CAP_NET_ADMIN (root, or setcap on the binary);
--user NAME drops root after the interface is open, as tcpdump -Z does.

Exit status: as analyze (0, 1, 2, 3, 4), and 5: the interface went down or
away mid-run (the report of what was captured is written).`,
		Example: `  phonehome capture -i virbr0 --vm 192.168.122.50 --duration 7d --checkpoint /var/lib/phonehome
  phonehome capture -i vboxnet0 --write /srv/captures --rotate 1h --gzip --format html -o week.html
  phonehome interfaces`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("capture takes no arguments (got %q): the interface is -i IFACE; to read files, use analyze", args[0])}
			}
			if opt.iface == "" {
				return usageError{errors.New("capture needs -i IFACE: the interface the VM's traffic passes (phonehome interfaces lists them)")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return captureLive(cmd.OutOrStdout(), cmd.ErrOrStderr(), opt)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opt.iface, "interface", "i", "", "interface to capture on: the VM's bridge or tap (phonehome interfaces lists them)")
	f.StringVar(&opt.vm, "vm", "", "IPv4 address of the Windows VM (default: the local address that starts the most flows; give it, so names show from the start)")
	reportFlags(cmd, &opt.reportOptions)
	f.StringVar(&opt.flows, "flows", "", "also write every IPv4 flow to `FILE` as JSON lines, as each ends (in the file within --status-every); a capture resumed from --checkpoint adds to it")
	f.BoolVarP(&opt.quiet, "quiet", "q", false, "no status line and no new names on stderr (warnings are still said)")
	f.StringVar(&opt.filter, "filter", "", "BPF filter (libpcap syntax); default none, so what is out of scope is counted")
	f.Var(durationValue{&opt.duration}, "duration", "stop after this long (7d, 36h, 90m); default: until Ctrl-C or SIGTERM")
	f.StringVar(&opt.write, "write", "", "also keep the packets as pcapng files in `DIR`, rotated (--rotate, --rotate-size)")
	f.Var(durationValue{&opt.rotate}, "rotate", "with --write: start a new file every period (1h), aligned to the clock, as tcpdump -G")
	f.StringVar(&opt.rotateSize, "rotate-size", "", "with --write: start a new file before one passes this size (1GB), as tcpdump -C")
	f.BoolVar(&opt.gzip, "gzip", false, "with --write: gzip each file")
	f.StringVar(&opt.checkpoint, "checkpoint", "", "keep the run record in `DIR`, written atomically every --checkpoint-every; resume from it when it holds one")
	f.StringVar(&opt.label, "label", "", "with --checkpoint: "+labelHelp+"; a resumed run keeps its label unless given")
	f.Var(durationValue{&opt.checkpointEvery}, "checkpoint-every", "how often to write the checkpoint (default 5m)")
	f.IntVar(&opt.snaplen, "snaplen", capture.DefaultSnaplen, "bytes kept of each frame (whole frames by default, so no name is cut)")
	f.BoolVar(&opt.promisc, "promisc", true, "put the interface in promiscuous mode (--promisc=false: only frames to the host)")
	f.StringVar(&opt.bufferSize, "buffer-size", humanize.IBytes(capture.DefaultBufferSize), "kernel capture buffer: what the capture has in hand while it is busy (a larger one drops less, and counts in resident memory)")
	f.BoolVar(&opt.immediate, "immediate", false, "deliver each packet at once rather than a buffer block at a time (more wake-ups)")
	f.StringVar(&opt.user, "user", "", "after opening the interface, drop root and run as `NAME` (as tcpdump -Z); outputs are then written as NAME")
	f.Var(durationValue{&opt.statusEvery}, "status-every", "status: redraw the terminal line this often (default 1s), or log one line this often when stderr is not a terminal (default 1m)")
	registerCompletions(cmd)
	return cmd
}

// durationValue is a time.Duration flag that also takes days ("7d", "1d12h").
type durationValue struct{ d *time.Duration }

func (v durationValue) String() string {
	if v.d == nil || *v.d == 0 {
		return ""
	}
	return v.d.String()
}

func (v durationValue) Type() string { return "duration" }

func (v durationValue) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	*v.d = d
	return nil
}

// parseDuration reads a Go duration with an optional leading number of days:
// "7d", "1d12h", "90m". It must be positive.
func parseDuration(s string) (time.Duration, error) {
	var days time.Duration
	rest := s
	if i := strings.IndexByte(s, 'd'); i > 0 {
		var n int
		if _, err := fmt.Sscanf(s[:i], "%d", &n); err != nil || fmt.Sprint(n) != s[:i] || n > 3650 {
			return 0, fmt.Errorf("%q: want a duration such as 7d, 36h or 90m", s)
		}
		days, rest = time.Duration(n)*24*time.Hour, s[i+1:]
	}
	var d time.Duration
	if rest != "" {
		var err error
		if d, err = time.ParseDuration(rest); err != nil || d < 0 {
			return 0, fmt.Errorf("%q: want a duration such as 7d, 36h or 90m", s)
		}
	}
	if d+days <= 0 {
		return 0, fmt.Errorf("%q: want a positive duration such as 7d, 36h or 90m", s)
	}
	return d + days, nil
}

// captureLive is phonehome capture: open, drop privileges, analyze until
// stopped, checkpoint on the way, report at the end.
func captureLive(stdout, stderr io.Writer, opt captureOptions) error {
	// Taken from the start: a SIGHUP (systemctl reload) or SIGTERM while
	// the interface is opened must not kill the process. One that comes
	// before the capture runs is acted on at its first poll.
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(signals)
	rs, err := prepareReport(stdout, stderr, opt.reportOptions)
	if err != nil {
		return err
	}
	cfg := classify.Config{}
	if cfg.VM, err = parseVM(opt.vm); err != nil {
		return err
	}
	bufSize, err := humanize.ParseBytes(opt.bufferSize)
	if err != nil || bufSize == 0 || bufSize > 1<<32 {
		return usageError{fmt.Errorf("--buffer-size %q: want a size such as 32MiB", opt.bufferSize)}
	}
	var rotateSize uint64
	if opt.rotateSize != "" {
		if rotateSize, err = humanize.ParseBytes(opt.rotateSize); err != nil || rotateSize < 1<<16 {
			return usageError{fmt.Errorf("--rotate-size %q: want a size of 64KiB or more, such as 1GB", opt.rotateSize)}
		}
	}
	if opt.write == "" && (opt.rotate != 0 || opt.rotateSize != "" || opt.gzip) {
		return usageError{errors.New("--rotate, --rotate-size and --gzip need --write DIR")}
	}
	if opt.snaplen < 64 || opt.snaplen > capture.DefaultSnaplen {
		return usageError{fmt.Errorf("--snaplen %d: want 64 to %d", opt.snaplen, capture.DefaultSnaplen)}
	}
	if opt.checkpointEvery == 0 {
		opt.checkpointEvery = 5 * time.Minute
	}
	term := isTerminal(stderr)
	if opt.statusEvery == 0 {
		opt.statusEvery = time.Minute
		if term {
			opt.statusEvery = time.Second
		}
	}

	// A checkpoint to resume from is read before the interface is opened:
	// a directory that holds something else is an error before anything
	// is captured.
	label, err := parseLabel(opt.label)
	if err != nil {
		return err
	}
	if label.given() && opt.checkpoint == "" {
		return usageError{errors.New("--label is kept in the run record: give --checkpoint too")}
	}
	var prior *classify.Run
	res := resumed{dir: opt.checkpoint, label: label}
	if opt.checkpoint != "" {
		var meta classify.RecordMeta
		if prior, meta, err = loadCheckpoint(opt.checkpoint); err != nil {
			return err
		}
		if prior != nil && !label.given() {
			res.label = runLabel{name: meta.Label, build: meta.Build, edition: meta.Edition}
		}
		if prior != nil {
			if cfg.VM.IsValid() && prior.VM.IsValid() && cfg.VM != prior.VM {
				return usageError{fmt.Errorf("--checkpoint %s holds a run of the VM %s, not --vm %s: give another directory, or the same VM", opt.checkpoint, prior.VM, cfg.VM)}
			}
			if !cfg.VM.IsValid() && prior.VM.IsValid() {
				cfg.VM = prior.VM // the same VM as before the gap
				res.vmFromRun = true
			}
		}
		res.run = prior
	}

	if prior != nil && opt.duration > 0 && len(prior.Sessions) > 0 && time.Since(prior.Sessions[0].Start) >= opt.duration {
		// A finished run started again (a reboot of a host whose service
		// is enabled): no new session, no gap; its report, once more.
		fmt.Fprintf(stderr, "phonehome: the run in --checkpoint %s began %s ago, more than --duration %s: it is finished; its report follows, and nothing is captured (move the directory away to start a new run)\n",
			reports.Terminal(opt.checkpoint), time.Since(prior.Sessions[0].Start).Round(time.Second), opt.duration)
		rep, err := rs.writeReport(stdout, prior)
		if err != nil {
			return err
		}
		return exitStatus(stderr, prior, rep)
	}

	live, err := capture.OpenLive(opt.iface, capture.LiveOptions{
		Snaplen: opt.snaplen, Promiscuous: opt.promisc, BufferSize: int(bufSize), Immediate: opt.immediate, Filter: opt.filter,
	})
	if errors.Is(err, capture.ErrNoSuchInterface) || errors.Is(err, capture.ErrBadFilter) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	defer live.Close()
	if opt.user != "" {
		if err := dropPrivileges(opt.user); err != nil {
			return err
		}
	}
	if opt.checkpoint != "" {
		// Made here, after --user took effect, so the new user owns it.
		if err := os.MkdirAll(opt.checkpoint, 0o750); err != nil {
			return fmt.Errorf("--checkpoint: %w; give a directory phonehome can write", err)
		}
		lock, err := lockDir(opt.checkpoint)
		if err != nil {
			return err
		}
		defer lock.Close() // held, and so locked, until the capture ends
	}

	c := &captureRun{
		opt: opt, rs: rs, live: live, stderr: stderr, stdout: stdout, prior: res,
		saver:  newSaver(res),
		status: newStatus(stderr, opt.quiet, term, opt.statusEvery, rs),
	}
	if opt.write != "" {
		// Made here, after --user took effect, so the new user owns it.
		if err := os.MkdirAll(opt.write, 0o750); err != nil {
			return fmt.Errorf("--write: %w; give a directory phonehome can write", err)
		}
		w, err := capture.NewWriter(capture.WriterOptions{
			Dir: opt.write, LinkType: live.LinkType(), Snaplen: opt.snaplen, Interface: opt.iface, Filter: opt.filter,
			Application: toolName(debug.ReadBuildInfo()),
			Rotate:      opt.rotate, RotateSize: int64(rotateSize), Gzip: opt.gzip,
		})
		if err != nil {
			return fmt.Errorf("--write: %w", err)
		}
		c.writer = w
		live.Tap = c.tap
	}
	closeFlows, flushFlows, err := openFlows(opt.flows, &cfg, prior != nil)
	if err != nil {
		return err
	}
	c.flushFlows = flushFlows
	defer closeFlows() // closed and checked below; this is for early returns

	c.signals = signals
	if opt.duration > 0 {
		// A resumed run's duration counts from its first start: a week
		// is a week of the VM, however often the capture restarted.
		left := opt.duration
		if prior != nil && len(prior.Sessions) > 0 {
			left -= time.Since(prior.Sessions[0].Start) // more than 0: a finished run was reported above
		}
		timer := time.AfterFunc(max(left, 0), func() { live.Stop(capture.EndDuration) })
		defer timer.Stop()
	}
	c.status.started(live.Session(), prior)

	cfg.Inputs = []string{"interface " + opt.iface}
	cfg.Poll = c.poll
	run, err := classify.Analyze(live, cfg)
	c.status.done()
	if err != nil {
		return err
	}
	if c.writer != nil {
		if err := c.writer.Close(); err != nil {
			c.warnf("--write: closing the last file: %v", err)
		}
		c.writerClosed = true
		switch files := c.writer.Files(); len(files) {
		case 0:
		case 1:
			c.status.note(fmt.Sprintf("--write: the packets are in %s: phonehome analyze %s gives this report again", files[0], opt.write))
		default:
			c.status.note(fmt.Sprintf("--write: the packets are in %d files in %s, %s to %s: phonehome analyze %s gives this report again",
				len(files), opt.write, filepath.Base(files[0]), filepath.Base(files[len(files)-1]), opt.write))
		}
	}
	c.markSession(run)
	c.saveCheckpoint(run) // the final one: the run as reported
	run, err = c.prior.merge(run)
	if err != nil {
		return err
	}
	c.status.names(run) // the undocumented names not said yet, if any
	// --flows failing at the end is said after the report: a week's
	// report is not lost for it.
	flowsErr := closeFlows()
	rep, err := rs.writeReport(stdout, run)
	if err != nil {
		return err
	}
	c.sayWhatWentWrong()
	sess := live.Session()
	if strings.HasPrefix(sess.Ended, capture.EndInterfaceDown) || strings.HasPrefix(sess.Ended, capture.EndReadError) {
		if flowsErr != nil {
			fmt.Fprintf(stderr, "phonehome: warning: %s\n", reports.Terminal(flowsErr.Error()))
		}
		fmt.Fprintf(stderr, "phonehome: the capture on %s ended: %s; the report holds what was captured until then (exit status 5)\n",
			reports.Terminal(opt.iface), reports.Terminal(sess.Ended))
		return errInterfaceDown
	}
	if flowsErr != nil {
		return flowsErr
	}
	return exitStatus(stderr, run, rep)
}

// captureRun is the state of one capture between packets: Poll's.
type captureRun struct {
	opt    captureOptions
	rs     *reportSetup
	live   *capture.Live
	writer *capture.Writer
	// writerClosed: the capture ended and the last file is closed.
	writerClosed bool
	prior        resumed // the run of an earlier start, if resuming

	stdout, stderr io.Writer
	signals        chan os.Signal
	status         *status

	saver          *saver // writes checkpoints off the capture's goroutine
	lastCheckpoint time.Time
	checkpointErr  string // the last checkpoint's failure, until one succeeds

	// flushFlows writes the --flows lines buffered so far, every
	// --status-every: a week's flows reach the file as they end, not a
	// megabyte at a time. Its error comes back when the file is closed.
	flushFlows     func() error
	lastFlowsFlush time.Time
}

// tap hands a frame to --write. A write that fails does not stop the
// capture: the failure is said once, and the run goes on in memory.
func (c *captureRun) tap(ts time.Time, frame []byte, wireLen int) {
	if err := c.writer.WritePacket(ts, frame, wireLen); err != nil {
		c.warnf("--write: %v; the capture goes on, packets are not written until it can write again", err)
	}
}

// poll runs between packets on Analyze's goroutine: signals, the status
// line, checkpoints.
func (c *captureRun) poll(v *classify.View) {
	now := time.Now()
	hup := false
	for {
		select {
		case sig := <-c.signals:
			if sig == syscall.SIGHUP {
				hup = true
				continue
			}
			c.live.Stop(capture.EndStopped)
		default:
			goto drained
		}
	}
drained:
	c.checkSaver()
	if hup {
		c.interim(v)
	} else if c.opt.checkpoint != "" && now.Sub(c.lastCheckpoint) >= c.opt.checkpointEvery {
		c.checkpointNow(v)
	}
	c.status.update(now, v, c.live, c.problems)
	if now.Sub(c.lastFlowsFlush) >= c.opt.statusEvery {
		c.flushFlows() // an error is kept, and said when the file is closed
		c.lastFlowsFlush = now
	}
}

// problems says what is going wrong now, for the status line.
func (c *captureRun) problems() []string {
	var p []string
	if c.writer != nil && c.writer.Stats().Failing() {
		p = append(p, "--write failing")
	}
	if c.checkpointErr != "" {
		p = append(p, "checkpoint failing")
	}
	return p
}

// interim is SIGHUP: a checkpoint, and the report so far, to -o or stdout.
func (c *captureRun) interim(v *classify.View) {
	run := v.Snapshot()
	c.markSession(run)
	c.saveCheckpoint(run)
	run, err := c.prior.merge(run)
	if err != nil {
		c.warnf("SIGHUP: %v", err)
		return
	}
	if _, err := c.rs.writeReport(c.stdout, run); err != nil {
		c.warnf("SIGHUP: interim report: %v", err)
		return
	}
	c.status.note("interim report written (SIGHUP)")
}

// markSession writes into run's last session (this start's) what failed
// while it ran: --write and the checkpoints.
func (c *captureRun) markSession(run *classify.Run) {
	n := len(run.Sessions)
	if n == 0 {
		return
	}
	s := &run.Sessions[n-1]
	s.CheckpointError = c.checkpointErr
	if c.writer != nil {
		st := c.writer.Stats()
		if st.LastError != nil {
			s.WriteError = st.LastError.Error()
		}
		s.WriteLost = uint64(st.LostPackets)
	}
}

// resumed is the run of an earlier start read from --checkpoint dir (run
// nil when there was none), and whether this start took its VM from it
// rather than from --vm. It is only read: the saver's goroutine shares it.
type resumed struct {
	run       *classify.Run
	vmFromRun bool
	dir       string
	label     runLabel // the checkpoints' label: --label, or the resumed run's
}

// merge merges the resumed run, if any, with run.
func (r resumed) merge(run *classify.Run) (*classify.Run, error) {
	if r.run == nil {
		return run, nil
	}
	if r.vmFromRun {
		// Taken from the resumed run, not given: say it as that run did.
		run.VMDetected, run.VMHow = r.run.VMDetected, r.run.VMHow
	}
	merged, err := classify.Merge(r.run, run)
	if err != nil {
		return nil, fmt.Errorf("merging with the run resumed from --checkpoint %s: %w", r.dir, err)
	}
	return merged, nil
}

// checkpointNow takes a snapshot and hands it to the saver, unless the last
// checkpoint is still being written (then the next poll tries again).
func (c *captureRun) checkpointNow(v *classify.View) {
	if c.saver.busy() {
		return
	}
	c.flushWriter()
	run := v.Snapshot()
	c.markSession(run)
	c.saver.save(run)
	c.lastCheckpoint = time.Now()
}

// flushWriter hands the --write buffer to the kernel, so that the files
// hold at least what a checkpoint counts once the kernel writes them back
// (a crash of the process loses none of them; a power cut, what the kernel
// had not written yet). No fsync here: it can take seconds, and libpcap
// drops packets while the capture waits.
func (c *captureRun) flushWriter() {
	if c.writer == nil || c.writerClosed {
		return
	}
	if err := c.writer.Flush(); err != nil {
		c.warnf("--write: %v", err)
	}
}

// saveCheckpoint writes run, the final one or SIGHUP's, now: after any
// checkpoint still being written.
func (c *captureRun) saveCheckpoint(run *classify.Run) {
	c.lastCheckpoint = time.Now()
	if c.opt.checkpoint == "" {
		return
	}
	c.flushWriter()
	c.saver.wait()
	c.checkSaver()
	c.saver.saveNow(run)
	c.checkSaver()
}

// checkSaver takes the outcome of the last checkpoint written: a failure is
// said once, until one succeeds again; the capture goes on either way, with
// the last good checkpoint in place.
func (c *captureRun) checkSaver() {
	err, fresh := c.saver.outcome()
	if !fresh {
		return
	}
	switch {
	case err != "" && c.checkpointErr == "":
		c.warnf("checkpoint %s: %s; the capture goes on, and the last good checkpoint stays in place", c.saver.path, err)
	case err == "" && c.checkpointErr != "":
		c.status.note("checkpoint written again after a failure")
	}
	c.checkpointErr = err
}

// warnf says something went wrong, above the status line.
func (c *captureRun) warnf(format string, args ...any) {
	c.status.note("warning: " + fmt.Sprintf(format, args...))
}

// sayWhatWentWrong repeats at the end what the status line said along the
// way: drops, write and checkpoint failures.
func (c *captureRun) sayWhatWentWrong() {
	s := c.live.Session()
	if s.Dropped+s.IfDropped > 0 {
		fmt.Fprintf(c.stderr, "phonehome: warning: libpcap dropped %s packets (kernel %s, interface %s) of %s received: the run misses traffic; give a larger --buffer-size\n",
			humanize.Comma(int64(s.Dropped+s.IfDropped)), humanize.Comma(int64(s.Dropped)), humanize.Comma(int64(s.IfDropped)), humanize.Comma(int64(s.Received)))
	}
	if c.writer != nil {
		if st := c.writer.Stats(); st.LastError != nil {
			fmt.Fprintf(c.stderr, "phonehome: warning: --write failed (%s): the files in %s miss packets; the report counts them\n", reports.Terminal(st.LastError.Error()), reports.Terminal(c.opt.write))
		}
	}
	if c.checkpointErr != "" {
		fmt.Fprintf(c.stderr, "phonehome: warning: the last checkpoint failed (%s): %s holds an older one\n", reports.Terminal(c.checkpointErr), reports.Terminal(c.opt.checkpoint))
	}
}

// loadCheckpoint reads the run record in dir, if there is one; nil when the
// directory or the record does not exist yet.
func loadCheckpoint(dir string) (*classify.Run, classify.RecordMeta, error) {
	path := filepath.Join(dir, classify.CheckpointName)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, classify.RecordMeta{}, nil
	}
	run, meta, err := classify.LoadRecord(path)
	if err != nil {
		return nil, meta, fmt.Errorf("--checkpoint %s: cannot resume from it: %w; move it away to start a new run", dir, err)
	}
	return run, meta, nil
}
