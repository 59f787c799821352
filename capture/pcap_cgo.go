//go:build cgo

package capture

/*
#cgo LDFLAGS: -lpcap
#include <stdlib.h>
#include <string.h>
#include <pcap.h>

// One frame of a batch: where it is in the batch's buffer, and its header.
typedef struct {
	long long sec;
	long long frac;     // nanoseconds, or microseconds (ph_batch.nano)
	unsigned int caplen;
	unsigned int len;
	unsigned int off;
} ph_rec;

// A batch: the frames one pcap_dispatch call handed over, copied out of
// libpcap's ring (which it gives back to the kernel when the call returns).
typedef struct {
	pcap_t *p;
	unsigned char *buf;
	unsigned int cap, used, snap;
	ph_rec *recs;
	int max, n;
	unsigned long long overflow; // frames there was no room for (never, by the checks below)
} ph_batch;

static void ph_take(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes) {
	ph_batch *b = (ph_batch *)user;
	unsigned int c = h->caplen;
	if (c > b->snap) {
		c = b->snap;
	}
	if (b->n >= b->max || b->cap - b->used < c) {
		b->overflow++;
		pcap_breakloop(b->p);
		return;
	}
	ph_rec *r = &b->recs[b->n++];
	r->sec = h->ts.tv_sec;
	r->frac = h->ts.tv_usec;
	r->caplen = c;
	r->len = h->len;
	r->off = b->used;
	memcpy(b->buf + b->used, bytes, c);
	b->used += c;
	// Stop before a frame could find no room: libpcap keeps the rest of
	// its block for the next call. (The count, max, stops it by itself.)
	if (b->cap - b->used < b->snap) {
		pcap_breakloop(b->p);
	}
}

// ph_dispatch reads what libpcap has (a ring block, at most), waiting up
// to the handle's timeout for it. It returns pcap_dispatch's result, with
// PCAP_ERROR_BREAK (our own pcap_breakloop) as the count taken.
static int ph_dispatch(ph_batch *b) {
	b->n = 0;
	b->used = 0;
	int r = pcap_dispatch(b->p, b->max, ph_take, (u_char *)b);
	if (r == PCAP_ERROR_BREAK && b->n == 0) {
		// A break asked for on the last frame of the call before, which
		// its count ended first: libpcap kept the request and spent it
		// now, before reading anything. Read.
		r = pcap_dispatch(b->p, b->max, ph_take, (u_char *)b);
	}
	if (r == PCAP_ERROR_BREAK) {
		return b->n;
	}
	return r;
}

static ph_batch *ph_new(pcap_t *p, unsigned int cap, unsigned int snap, int max) {
	ph_batch *b = calloc(1, sizeof(ph_batch));
	if (b == NULL) {
		return NULL;
	}
	b->buf = malloc(cap);
	b->recs = calloc(max, sizeof(ph_rec));
	if (b->buf == NULL || b->recs == NULL) {
		free(b->buf);
		free(b->recs);
		free(b);
		return NULL;
	}
	b->p = p;
	b->cap = cap;
	b->snap = snap;
	b->max = max;
	return b;
}

static void ph_free(ph_batch *b) {
	free(b->buf);
	free(b->recs);
	free(b);
}

static int ph_setfilter(pcap_t *p, const char *expr) {
	struct bpf_program prog;
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		return -1;
	}
	int r = pcap_setfilter(p, &prog);
	pcap_freecode(&prog);
	return r;
}

static int ph_stats(pcap_t *p, unsigned int *recv, unsigned int *drop, unsigned int *ifdrop) {
	struct pcap_stat st;
	if (pcap_stats(p, &st) != 0) {
		return -1;
	}
	*recv = st.ps_recv;
	*drop = st.ps_drop;
	*ifdrop = st.ps_ifdrop;
	return 0;
}

static pcap_t *ph_open_file(const char *path, char *errbuf) {
	return pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"time"
	"unsafe"
)

// Batch sizes: a pcap_dispatch call copies up to batchFrames frames, or
// until batchBytes less one snap length are used. One cgo call per batch,
// not per packet: at 100 000 packets/s a call per packet (and the runtime's
// work around each) cost phonehome more CPU than tcpdump's whole capture.
const (
	batchFrames = 4096
	batchBytes  = 4 << 20
)

// pcapHandle is our own thin binding of libpcap's capture calls: open,
// filter, read in batches, count, close.
type pcapHandle struct {
	p       *C.pcap_t
	b       *C.ph_batch
	recs    []C.ph_rec // the batch's records, in C memory
	buf     []byte     // the batch's frames, in C memory
	i, n    int        // next record to deliver, records in the batch
	nano    bool       // timestamps in nanoseconds (else microseconds)
	timeout time.Duration
	fd      int  // libpcap's selectable descriptor; -1 for none
	offline bool // a file (tests): 0 frames means its end
}

// pcapError is libpcap's own message for p's last error.
func pcapError(p *C.pcap_t) string { return C.GoString(C.pcap_geterr(p)) }

// openLibpcap creates and activates a capture handle on iface.
func openLibpcap(iface string, opt LiveOptions) (*pcapHandle, error) {
	cname := C.CString(iface)
	defer C.free(unsafe.Pointer(cname))
	errbuf := (*C.char)(C.calloc(C.PCAP_ERRBUF_SIZE, 1))
	defer C.free(unsafe.Pointer(errbuf))
	p := C.pcap_create(cname, errbuf)
	if p == nil {
		return nil, fmt.Errorf("capture on %s: %s", iface, C.GoString(errbuf))
	}
	promisc := C.int(0)
	if opt.Promiscuous {
		promisc = 1
	}
	immediate := C.int(0)
	if opt.Immediate {
		immediate = 1
	}
	C.pcap_set_snaplen(p, C.int(opt.Snaplen))
	C.pcap_set_promisc(p, promisc)
	C.pcap_set_timeout(p, C.int(opt.Timeout/time.Millisecond))
	C.pcap_set_buffer_size(p, C.int(opt.BufferSize))
	C.pcap_set_immediate_mode(p, immediate)
	C.pcap_set_tstamp_precision(p, C.PCAP_TSTAMP_PRECISION_NANO) // where it is not supported, microseconds
	if r := C.pcap_activate(p); r < 0 {
		err := activateError(iface, int(r), pcapError(p))
		C.pcap_close(p)
		return nil, err
	}
	if C.pcap_setnonblock(p, 1, errbuf) != 0 {
		err := fmt.Errorf("capture on %s: %s", iface, C.GoString(errbuf))
		C.pcap_close(p)
		return nil, err
	}
	h, err := newPcapHandle(p, opt.Snaplen)
	if err != nil {
		return nil, err
	}
	h.timeout = opt.Timeout
	h.fd = int(C.pcap_get_selectable_fd(p))
	return h, nil
}

// openPcapFile opens a capture file through libpcap's own reader, for tests
// of the live path without root.
func openPcapFile(path string) (*pcapHandle, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	errbuf := (*C.char)(C.calloc(C.PCAP_ERRBUF_SIZE, 1))
	defer C.free(unsafe.Pointer(errbuf))
	p := C.ph_open_file(cpath, errbuf)
	if p == nil {
		return nil, errors.New(C.GoString(errbuf))
	}
	h, err := newPcapHandle(p, int(C.pcap_snapshot(p)))
	if err != nil {
		return nil, err
	}
	h.offline = true
	return h, nil
}

// newPcapHandle reads p, an open handle, through a batch of its own; when
// there is no memory for the batch, it closes p.
func newPcapHandle(p *C.pcap_t, snaplen int) (*pcapHandle, error) {
	snap := min(max(snaplen, 64), DefaultSnaplen)
	b := C.ph_new(p, C.uint(max(batchBytes, 2*snap)), C.uint(snap), batchFrames)
	if b == nil {
		C.pcap_close(p)
		return nil, errors.New("capture: no memory for the read batch")
	}
	return &pcapHandle{
		p:    p,
		b:    b,
		recs: unsafe.Slice(b.recs, batchFrames),
		buf:  unsafe.Slice((*byte)(unsafe.Pointer(b.buf)), int(b.cap)),
		nano: C.pcap_get_tstamp_precision(p) == C.PCAP_TSTAMP_PRECISION_NANO,
	}, nil
}

// setFilter compiles expr and sets it; the error is libpcap's message.
func (h *pcapHandle) setFilter(expr string) error {
	cexpr := C.CString(expr)
	defer C.free(unsafe.Pointer(cexpr))
	if C.ph_setfilter(h.p, cexpr) != 0 {
		return errors.New(pcapError(h.p))
	}
	return nil
}

func (h *pcapHandle) linkType() uint16 { return uint16(C.pcap_datalink(h.p)) }

// errTimeout: no frame came within the handle's timeout.
var errTimeout = errors.New("capture: read timeout")

// readError is libpcap's failure to read: its code and message.
type readError struct {
	code int
	msg  string
}

func (e *readError) Error() string { return e.msg }

// next returns the next frame, read into the batch when the batch is spent:
// valid until the call after the batch's last frame. errTimeout when no
// frame came within the timeout; io.EOF at a file's end; a *readError when
// libpcap fails (the interface went down: code PCAP_ERROR_IFACE_NOT_UP).
func (h *pcapHandle) next() (frame []byte, ts time.Time, wireLen int, err error) {
	if h.i >= h.n {
		r := int(C.ph_dispatch(h.b))
		if r == 0 && !h.offline && h.fd >= 0 {
			// Nothing there: wait for the descriptor, then read once
			// more (waitReadable says how, and why not in C).
			waitReadable(h.fd, h.timeout)
			r = int(C.ph_dispatch(h.b))
		}
		if r < 0 {
			h.i, h.n = 0, 0
			return nil, time.Time{}, 0, &readError{code: r, msg: pcapError(h.p)}
		}
		h.i, h.n = 0, int(h.b.n)
		if h.n == 0 {
			if h.offline {
				return nil, time.Time{}, 0, io.EOF
			}
			return nil, time.Time{}, 0, errTimeout
		}
	}
	r := &h.recs[h.i]
	h.i++
	frac := int64(r.frac)
	if !h.nano {
		frac *= 1000
	}
	off := int(r.off)
	return h.buf[off : off+int(r.caplen) : off+int(r.caplen)], time.Unix(int64(r.sec), frac).UTC(), int(r.len), nil
}

// pending reports whether frames of the batch are still to be delivered.
func (h *pcapHandle) pending() bool { return h.i < h.n }

// stats returns libpcap's counts: received, dropped by the kernel, dropped
// by the interface.
func (h *pcapHandle) stats() (recv, drop, ifdrop uint64, ok bool) {
	var r, d, i C.uint
	if C.ph_stats(h.p, &r, &d, &i) != 0 {
		return 0, 0, 0, false
	}
	return uint64(r), uint64(d), uint64(i), true
}

// overflow counts frames there was no room for in a batch: never, unless
// the checks in ph_take are wrong; said as a bound if it happens.
func (h *pcapHandle) overflow() uint64 { return uint64(h.b.overflow) }

func (h *pcapHandle) close() {
	if h.p != nil {
		C.pcap_close(h.p)
		C.ph_free(h.b)
		h.p, h.b = nil, nil
	}
}

// Codes of pcap_activate and pcap_dispatch (pcap/pcap.h).
const (
	pcapErrorNoSuchDevice      = -5
	pcapErrorPermDenied        = -8
	pcapErrorIfaceNotUp        = -9
	pcapErrorPromiscPermDenied = -11
)
