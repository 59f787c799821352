package classify

import (
	"io"
	"slices"

	"github.com/phonehome/phonehome/capture"
)

// Source is where Analyze reads packets from: capture.FileSet (files, one
// after another or merged), and any other stream of decoded packets that can
// say what it could not read. It is declared here, where it is used.
type Source interface {
	// Next fills p with the next packet, decoded (capture.Decode), in
	// capture order, and returns nil; io.EOF after the last. p's slices
	// need stay valid only until the next call. Any other error ends the
	// analysis and is returned by Analyze as it is: it should name what
	// failed.
	Next(p *capture.Packet) error
	// Damage returns the places the input could not be read as a capture,
	// in reading order.
	Damage() []capture.Damage
	// Stats returns what was read; Analyze takes Stats.Unsupported and
	// Stats.Duplicates from it.
	Stats() capture.Stats
	// Bounds returns the limits the source reached (IPv4 reassembly).
	Bounds() []capture.Bound
}

// ProgressEvery is how many packets Analyze reads between calls of
// Config.Progress: often enough for a line redrawn four times a second at
// 100 000 packets/s, rarely enough to cost nothing measurable.
const ProgressEvery = 1 << 14

// Analyze reads src to its end through a Classifier made from cfg and
// returns the run (Config.InputName from src, when src has an InputName
// method as capture.FileSet and capture.Live do), with what src says about itself: Config.Inputs as
// Run.Inputs, its damage, the bounds it reached after the classifier's, and
// its frames of link types that cannot be decoded. It does not close src.
//
// An error from src.Next other than io.EOF ends the analysis: Analyze returns
// it, and no run. Damage is not an error: the run says where it is.
//
// Analyze allocates nothing per packet beyond what src.Next and
// Classifier.Add do (TestAnalyzeAllocatesNothingPerPacket); cmd/mkcapture's
// BenchmarkPipeline times it over a generated week.
//
// A live source says when it has had no packet for a while, or when a while
// of capture time has passed, by returning capture.ErrIdle from Next; Analyze
// then calls Config.Poll, which may look at the run so far (View) and stop the
// source, and reads on.
func Analyze(src Source, cfg Config) (*Run, error) {
	if n, ok := src.(interface{ InputName(int) string }); ok && cfg.InputName == nil {
		cfg.InputName = n.InputName
	}
	c := New(cfg)
	var p capture.Packet
	var n uint64
	for {
		err := src.Next(&p)
		if err == io.EOF {
			break
		}
		if err == capture.ErrIdle {
			if cfg.Poll != nil {
				cfg.Poll(&View{c: c, src: src, cfg: &cfg, packets: n})
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		c.Add(&p)
		if n++; n%ProgressEvery == 0 && cfg.Progress != nil {
			cfg.Progress(n)
		}
	}
	run := c.Finish()
	addSource(run, src, &cfg)
	return run, nil
}

// addSource fills in what src says about itself.
func addSource(run *Run, src Source, cfg *Config) {
	run.Inputs = slices.Clone(cfg.Inputs)
	run.Damage = src.Damage()
	run.Bounds = append(run.Bounds, src.Bounds()...)
	st := src.Stats()
	run.Unsupported = map[string]uint64{}
	for lt, frames := range st.Unsupported {
		run.Unsupported[capture.LinkTypeName(lt)] += uint64(frames)
	}
	run.Duplicates = uint64(st.Duplicates)
	run.InputStats = st.Inputs
	run.Sessions = st.Sessions
}

// View is what Config.Poll sees of an analysis in progress. It is valid only
// during the call.
type View struct {
	c       *Classifier
	src     Source
	cfg     *Config
	packets uint64
}

// Packets is the number of packets read so far.
func (v *View) Packets() uint64 { return v.packets }

// Bytes is the wire length of the frames read so far.
func (v *View) Bytes() uint64 { return v.c.run.Bytes }

// LiveFlows is the number of flows open now.
func (v *View) LiveFlows() int { return v.c.LiveFlows() }

// Snapshot returns the run as Analyze would return it if the source ended
// now (Classifier.Snapshot, with what the source says about itself); the
// analysis goes on unchanged.
func (v *View) Snapshot() *Run {
	run := v.c.Snapshot()
	addSource(run, v.src, v.cfg)
	return run
}
