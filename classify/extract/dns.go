package extract

// Bounds of the DNS parser.
const (
	// MaxDNSArena is the capacity of the per-DNSResponse buffer holding decoded names (question, CNAME owners and
	// targets). A 512-byte UDP answer needs a few hundred bytes; names that do not fit are not recorded and set
	// DNSResponse.Clipped.
	MaxDNSArena = 8 << 10
	// MaxCNAMEChain is the longest CNAME chain followed from the question name (the 6-hop
	// ctldl.windowsupdate.com chain in testdata is the longest in the corpus).
	MaxCNAMEChain = 32
	// MaxCNAMERecords is how many answer-section CNAME records are remembered for following the chain.
	MaxCNAMERecords = 64
	// MaxAAnswers is how many A answers are kept.
	MaxAAnswers = 64
	// maxNameWire is the RFC 1035 limit on a name's uncompressed wire length, length octets and root included.
	maxNameWire = 255
	// MaxPointerJumps is how many compression pointers one name may follow. A name has at most 127 labels and a
	// compressor never points at a pointer, so real names need far fewer; without a cap, a chain of pointers
	// each two bytes before the last costs len(msg)/2 jumps per name and a 40 KiB message took 150 ms to parse.
	MaxPointerJumps = 126
	dnsHeaderLen    = 12

	dnsTypeA     = 1
	dnsTypeCNAME = 5
	dnsTypeAAAA  = 28
	dnsClassIN   = 1
)

// ARecord is one A answer about the question name or a name in its CNAME chain.
type ARecord struct {
	// Owner is the record's owner name: the DNSResponse's QName or one of its CNAMEChain entries (same
	// backing memory, same lifetime).
	Owner []byte
	Addr  [4]byte
	// TTL is the record's own time to live, in seconds.
	TTL uint32
	// MinTTL is how long, in seconds, the answer as a whole may be cached: the smallest of TTL and the TTLs of
	// the CNAME records that lead from the question name to Owner. A cache keeps no record past its TTL, so
	// the question name leads to Addr only as long as every link of the chain is kept. It equals TTL when
	// Owner is the question name.
	MinTTL uint32
}

// DNSResponse is what ParseDNSResponse reads from one DNS response. The zero value is ready to use. Reuse one
// DNSResponse per goroutine: its first use allocates the name arena (MaxDNSArena bytes) and record tables once,
// later calls do not allocate. A DNSResponse is not safe for concurrent use.
//
// Names are decoded to dotted text without the trailing dot (the root is empty), label bytes as sent: no case
// folding, no escaping (a label holding '.' or binary bytes is copied as is). Normalising is the caller's job.
// All name slices point into the DNSResponse's arena and are valid until the next ParseDNSResponse call with it.
// Fields are meaningful only after Found; every call resets them first.
type DNSResponse struct {
	ID            uint16
	Opcode        uint8 // 0 is QUERY; others (NOTIFY, UPDATE) are read the same way, so filter on it
	RCode         uint8 // low 4 bits of the header (no EDNS extended RCODE)
	Authoritative bool  // AA bit
	Truncated     bool  // TC bit: the server cut the message; the answers present were still read

	QDCount, ANCount, NSCount, ARCount uint16

	// HasQuestion reports QDCOUNT >= 1. QName, QType and QClass are the first question; others are skipped.
	HasQuestion bool
	QName       []byte
	QType       uint16
	QClass      uint16

	// CNAMEChain is the chain of CNAME targets followed from QName through the answer section, by owner name
	// (ASCII case-insensitive), not by record order: CNAMEChain[0] is the target of QName's CNAME, and so on.
	// It stops at MaxCNAMEChain entries or when a target repeats an earlier name (CNAMELoop).
	CNAMEChain [][]byte
	// CNAMELoop reports that following the chain came back to QName or an earlier chain entry.
	CNAMELoop bool
	// A holds the answer-section A records (class IN) whose owner is QName or a CNAMEChain entry, in record
	// order, at most MaxAAnswers.
	A []ARecord
	// AAAACount counts answer-section AAAA records (class IN), whatever their owner.
	AAAACount int
	// Clipped reports that a bound (MaxDNSArena, MaxCNAMERecords, MaxCNAMEChain, MaxAAnswers) stopped some
	// records from being recorded. The message was still well formed.
	Clipped bool
	// Cut reports, from ParseDNSResponsePrefix only, that the bytes ended inside the question or answer
	// section: the answers read are the whole records before the end, and the ones after it are missing.
	Cut bool

	arena  []byte
	cnames []cnameRR
}

// cnameRR is a remembered CNAME record; targetOff is where its target name
// starts in the message.
type cnameRR struct {
	owner, target []byte
	targetOff     int
	ttl           uint32
}

func (r *DNSResponse) reset() {
	arena, cnames, chain, a := r.arena, r.cnames, r.CNAMEChain, r.A
	if cap(arena) < MaxDNSArena {
		arena = make([]byte, 0, MaxDNSArena)
		cnames = make([]cnameRR, 0, MaxCNAMERecords)
		chain = make([][]byte, 0, MaxCNAMEChain)
		a = make([]ARecord, 0, MaxAAnswers)
	}
	*r = DNSResponse{arena: arena[:0], cnames: cnames[:0], CNAMEChain: chain[:0], A: a[:0]}
}

// ParseDNSResponse parses one whole DNS message: a UDP payload, or a TCP message without its 2-byte length
// (see SplitTCPDNS). It returns Found for a well-formed response (QR set) and NotThis for a query, a message
// shorter than its 12-byte header, or a malformed header, question or answer section. A message is complete by
// definition, so it never returns NeedMore. The authority and additional sections are not read (bytes there,
// and bytes after the message, do not change the result).
//
// Names are checked like RFC 1035 section 4.1.4 demands and a little more: labels of at most 63 bytes (the
// 0x40 and 0x80 label types are malformed), decoded names of at most 255 wire bytes, and compression pointers
// that each point strictly before the previous jump target (or before the name, for the first), so a
// pointer loop or a forward pointer is malformed; a name may follow at most MaxPointerJumps pointers. CNAME
// rdata must be exactly one name; A rdata 4 bytes; AAAA rdata 16 bytes. Work is linear in len(msg): each of at
// most len(msg)/11 answers costs two walks of at most 255 label bytes and 126 jumps (BenchmarkParseDNSResponse
// has the worst case, a 64 KiB message of 4000 such answers).
func ParseDNSResponse(msg []byte, out *DNSResponse) Status { return parseDNS(msg, out, false, true) }

// ParseDNSResponsePrefix is ParseDNSResponse for the start of a message whose end the capture lost: a UDP
// payload holding fewer bytes than its IP total length announces (cut by the snap length, or a first fragment
// whose other fragments were not captured). The header and the first question must be whole. The answer
// section is read up to the first record, or later question, that runs past the end of msg; Cut reports that
// one did, and the records after it are missing (so CNAMEChain and A may be shorter than the server sent). Only
// where the bytes stop is a record forgiven: a record malformed before the end makes the message NotThis, as
// in ParseDNSResponse. A whole message gives the same result as ParseDNSResponse, with Cut false.
func ParseDNSResponsePrefix(msg []byte, out *DNSResponse) Status {
	return parseDNS(msg, out, true, true)
}

// parseDNS parses as the two above say. With shortcuts, a name that is only a
// compression pointer to a name already decoded is taken as that name instead
// of being decoded again; without, every name is decoded (the fuzz test's
// reference: both give the same result unless the arena fills).
func parseDNS(msg []byte, out *DNSResponse, prefix, shortcuts bool) Status {
	out.reset()
	if len(msg) < dnsHeaderLen {
		return NotThis
	}
	flags := be16(msg[2:])
	if flags&0x8000 == 0 {
		return NotThis
	}
	out.ID = be16(msg)
	out.Opcode = uint8(flags>>11) & 0xf
	out.Authoritative = flags&0x0400 != 0
	out.Truncated = flags&0x0200 != 0
	out.RCode = uint8(flags & 0xf)
	out.QDCount, out.ANCount = be16(msg[4:]), be16(msg[6:])
	out.NSCount, out.ARCount = be16(msg[8:]), be16(msg[10:])

	arena := out.arena
	off := dnsHeaderLen
	for i := 0; i < int(out.QDCount); i++ {
		var st nameStatus
		var full bool
		var name []byte
		if i == 0 {
			name, arena, off, st, full = readName(msg, off, arena, true)
		} else {
			_, _, off, st, _ = readName(msg, off, nil, false)
		}
		if st == nameOK && len(msg)-off < 4 {
			st = nameCut
		}
		if st == nameCut && prefix && i > 0 {
			out.Cut = true
			break
		}
		if st != nameOK {
			return NotThis
		}
		if i == 0 {
			if full { // cannot happen: an empty arena always holds one name
				return NotThis
			}
			out.HasQuestion = true
			out.QName = name
			out.QType, out.QClass = be16(msg[off:]), be16(msg[off+2:])
		}
		off += 4
	}

	// Pass 1: validate the answer section, remember CNAMEs, count AAAA. n counts the whole records: all of
	// them, unless a prefix ends inside one.
	answers := off
	n := 0
	for ; n < int(out.ANCount) && !out.Cut; n++ {
		owner := off
		var st nameStatus
		_, _, off, st, _ = readName(msg, off, nil, false)
		if st == nameOK && (len(msg)-off < 10 || len(msg)-(off+10) < int(be16(msg[off+8:]))) {
			st = nameCut // the fixed fields or the rdata run past the end
		}
		if st == nameCut && prefix {
			out.Cut = true
			break
		}
		if st != nameOK {
			return NotThis
		}
		typ, class := be16(msg[off:]), be16(msg[off+2:])&0x7fff // mDNS sets the top bit (cache flush)
		rdlen := int(be16(msg[off+8:]))
		rd := off + 10
		end := rd + rdlen
		if class == dnsClassIN {
			switch typ {
			case dnsTypeA:
				if rdlen != 4 {
					return NotThis
				}
			case dnsTypeAAAA:
				if rdlen != 16 {
					return NotThis
				}
				out.AAAACount++
			case dnsTypeCNAME:
				var c cnameRR
				var full, fullT bool
				var next int
				write := !out.Clipped && len(out.cnames) < cap(out.cnames)
				mark := len(arena)
				if known := out.nameAt(msg, owner); known != nil && write && shortcuts {
					c.owner = known // validated above, so it decodes to known
				} else {
					c.owner, arena, _, _, full = readName(msg, owner, arena, write)
				}
				// The rdata is all in msg, so a target that runs past the end of msg runs past the rdata:
				// malformed, cut or not.
				c.target, arena, next, st, fullT = readName(msg, rd, arena, write && !full)
				if st != nameOK || next != end {
					return NotThis
				}
				if !write || full || fullT {
					arena = arena[:mark]
					out.Clipped = true
				} else {
					c.targetOff = rd
					c.ttl = be32(msg[off+4:])
					out.cnames = append(out.cnames, c)
				}
			}
		}
		off = end
	}
	out.arena = arena

	if !out.HasQuestion {
		return Found
	}
	// Follow the chain by owner name. starts[k] is where the name QName (k = 0) or CNAMEChain[k-1] starts in
	// msg; minTTL[k] is the smallest TTL of the CNAME records from QName to that name.
	var starts [MaxCNAMEChain + 1]int
	var minTTL [MaxCNAMEChain + 1]uint32
	starts[0] = dnsHeaderLen // the first question's name
	minTTL[0] = ^uint32(0)
	cur := out.QName
	for {
		i, ok := out.cnameOf(cur)
		if !ok {
			break
		}
		target := out.cnames[i].target
		if equalFoldASCII(target, out.QName) || out.inChain(target) {
			out.CNAMELoop = true
			break
		}
		if len(out.CNAMEChain) == MaxCNAMEChain {
			out.Clipped = true
			break
		}
		out.CNAMEChain = append(out.CNAMEChain, target)
		k := len(out.CNAMEChain)
		starts[k] = out.cnames[i].targetOff
		minTTL[k] = min(minTTL[k-1], out.cnames[i].ttl)
		cur = target
	}

	// Pass 2: A records owned by the question name or a chain entry. Most owners are a compression pointer
	// to where that name is written (the question, or the rdata of the CNAME that named it): such an owner
	// is that name without decoding it. Others are decoded once and matched by a case-folded hash first, so
	// a message of thousands of A records costs one name walk per record, not 33. (Chain entries differ
	// from each other and from QName, case folded, so at most one can match.)
	var hashes [MaxCNAMEChain + 1]uint64
	hashed := false
	var scratch [maxNameWire]byte
	off = answers
	for range n {
		var name, text []byte
		// name, once found, is QName (at 0) or CNAMEChain[at-1].
		at := 0
		if shortcuts && msg[off]&0xc0 == 0xc0 { // pass 1 checked that the pointer's second byte is there
			p := int(msg[off]&0x3f)<<8 | int(msg[off+1])
			for k := 0; k <= len(out.CNAMEChain); k++ {
				if starts[k] == p {
					name, at = out.QName, k
					if k > 0 {
						name = out.CNAMEChain[k-1]
					}
					break
				}
			}
		}
		if name != nil {
			off += 2
		} else {
			// validated in pass 1; dotted text is at most 253 bytes, so it fits scratch
			text, _, off, _, _ = readName(msg, off, scratch[:0], true)
		}
		typ, class := be16(msg[off:]), be16(msg[off+2:])&0x7fff
		rd := off + 10
		off = rd + int(be16(msg[off+8:]))
		if typ != dnsTypeA || class != dnsClassIN {
			continue
		}
		if name == nil {
			if !hashed {
				hashes[0] = foldHash(out.QName)
				for i, c := range out.CNAMEChain {
					hashes[i+1] = foldHash(c)
				}
				hashed = true
			}
			h := foldHash(text)
			for k := 0; k <= len(out.CNAMEChain) && name == nil; k++ {
				c := out.QName
				if k > 0 {
					c = out.CNAMEChain[k-1]
				}
				if hashes[k] == h && equalFoldASCII(c, text) {
					name, at = c, k
				}
			}
		}
		if name == nil {
			continue
		}
		if len(out.A) == cap(out.A) {
			out.Clipped = true
			break
		}
		ttl := be32(msg[rd-6:])
		out.A = append(out.A, ARecord{Owner: name, Addr: [4]byte(msg[rd : rd+4]), TTL: ttl, MinTTL: min(ttl, minTTL[at])})
	}
	return Found
}

// nameAt returns the name already decoded from where the name at msg[off:]
// points, when it is only a compression pointer to the question name or to
// a remembered CNAME target (as compressors write the owner of the next
// record in a chain); otherwise nil.
func (r *DNSResponse) nameAt(msg []byte, off int) []byte {
	if len(msg)-off < 2 || msg[off]&0xc0 != 0xc0 {
		return nil
	}
	p := int(msg[off]&0x3f)<<8 | int(msg[off+1])
	if p == dnsHeaderLen && r.HasQuestion {
		return r.QName
	}
	for _, c := range r.cnames {
		if c.targetOff == p {
			return c.target
		}
	}
	return nil
}

// cnameOf returns the index of the first remembered CNAME owned by name.
func (r *DNSResponse) cnameOf(name []byte) (int, bool) {
	for i, c := range r.cnames {
		if equalFoldASCII(c.owner, name) {
			return i, true
		}
	}
	return 0, false
}

func (r *DNSResponse) inChain(name []byte) bool {
	for _, c := range r.CNAMEChain {
		if equalFoldASCII(c, name) {
			return true
		}
	}
	return false
}

// nameStatus is how readName ended. The zero value is nameBad, so a status never set is never success.
type nameStatus uint8

const (
	nameBad nameStatus = iota // malformed
	nameCut                   // well formed as far as msg goes, but it runs past the end of msg
	nameOK
)

// readName decodes the name at msg[off:]. With write set it appends the dotted text to arena, never beyond
// cap(arena); if it does not fit, arena is left as it was and full is set, and the walk still validates the
// name. name is the appended text (capacity capped at its length). next is the offset just past the name where
// it sits (after its first pointer, if any). st is nameOK for a well-formed name, nameCut for one that runs
// past the end of msg, nameBad for a malformed one; next is 0 unless nameOK.
func readName(msg []byte, off int, arena []byte, write bool) (name, arenaOut []byte, next int, st nameStatus, full bool) {
	start := len(arena)
	floor := off // every pointer must point below this: strictly backwards, so no loops
	next = -1
	wire, jumps := 0, 0
	for {
		if off < 0 {
			return nil, arena[:start], 0, nameBad, false
		}
		if off >= len(msg) {
			return nil, arena[:start], 0, nameCut, false
		}
		c := int(msg[off])
		switch c & 0xc0 {
		case 0x00:
			wire += 1 + c
			if wire > maxNameWire {
				return nil, arena[:start], 0, nameBad, false
			}
			if c == 0 {
				if next < 0 {
					next = off + 1
				}
				if full || !write {
					return nil, arena[:start], next, nameOK, full
				}
				return arena[start:len(arena):len(arena)], arena, next, nameOK, false
			}
			if len(msg)-off-1 < c {
				return nil, arena[:start], 0, nameCut, false
			}
			if write && !full {
				dot := 0
				if len(arena) > start {
					dot = 1
				}
				if cap(arena)-len(arena) < dot+c {
					full = true
					arena = arena[:start]
				} else {
					if dot == 1 {
						arena = append(arena, '.')
					}
					arena = append(arena, msg[off+1:off+1+c]...)
				}
			}
			off += 1 + c
		case 0xc0:
			if len(msg)-off < 2 {
				return nil, arena[:start], 0, nameCut, false
			}
			p := (c&0x3f)<<8 | int(msg[off+1])
			if p >= floor || jumps == MaxPointerJumps {
				return nil, arena[:start], 0, nameBad, false
			}
			if next < 0 {
				next = off + 2
			}
			jumps++
			floor = p
			off = p
		default: // 0x40 and 0x80: extended label types (RFC 6891 deprecated them), or a length over 63
			return nil, arena[:start], 0, nameBad, false
		}
	}
}

// SplitTCPDNS takes one DNS message off the front of a DNS-over-TCP stream (RFC 1035 section 4.2.2: a 2-byte
// length, then the message). Found returns the message (without the length, capacity capped) and the rest of the
// stream, both sub-slices of stream; call again on rest for the next message. NeedMore (fewer than 2 bytes, or
// fewer than the length says) and NotThis (a length below the 12-byte DNS header) return msg nil and rest equal to
// stream. It checks nothing inside the message: pass msg to ParseDNSResponse.
func SplitTCPDNS(stream []byte) (msg, rest []byte, st Status) {
	if len(stream) < 2 {
		return nil, stream, NeedMore
	}
	n := int(be16(stream))
	if n < dnsHeaderLen {
		return nil, stream, NotThis
	}
	if len(stream)-2 < n {
		return nil, stream, NeedMore
	}
	return stream[2 : 2+n : 2+n], stream[2+n:], Found
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// equalFoldASCII compares ASCII case-insensitively; other bytes must match exactly.
func equalFoldASCII(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 || &a[0] == &b[0] {
		return true
	}
	for i := range a {
		x, y := a[i], b[i]
		if x != y && lowerASCII(x) != lowerASCII(y) {
			return false
		}
	}
	return true
}

// foldHash is FNV-1a over the ASCII-lower-cased bytes.
func foldHash(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(lowerASCII(c))
		h *= 1099511628211
	}
	return h
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// DNSQuery is what ParseDNSQuery reads from a DNS query: its header and its first question. The zero value is
// ready to use, and ParseDNSQuery never allocates: the question name is decoded into a buffer inside the
// DNSQuery. Reuse one per goroutine; it is not safe for concurrent use.
//
// QName is dotted text without the trailing dot, label bytes as sent (no case folding: a resolver that
// randomises letter case, "0x20" encoding, sends mIxEd case and answers with the same bytes). It points into the
// DNSQuery and is valid until the next ParseDNSQuery call with it. Fields are meaningful only after Found; every
// call resets them first.
type DNSQuery struct {
	ID     uint16
	Opcode uint8 // 0 is QUERY; others are read the same way, so filter on it

	QDCount, ANCount, NSCount, ARCount uint16

	QName  []byte
	QType  uint16
	QClass uint16 // as sent: mDNS puts its unicast-response bit (QU) in the top bit

	name [maxNameWire]byte // dotted text of a name of at most 255 wire bytes is at most 253 bytes
}

// ParseDNSQuery parses the header and the first question of a DNS query (QR clear): a UDP payload, or a TCP
// message without its 2-byte length (see SplitTCPDNS). Only the header and the first question are read, so the
// result depends on msg's first bytes only: Found needs the 12-byte header and the whole first question; NeedMore
// means msg ends before them and is a valid start of a query; NotThis means a response (QR set), a QDCOUNT of 0,
// or a malformed first question name (the rules of ParseDNSResponse: labels of at most 63 bytes, at most 255 wire
// bytes, compression pointers strictly backwards and at most MaxPointerJumps of them). Later questions and the
// other sections are not read: a query's additional section carries an EDNS OPT record, which says nothing
// about the name asked for. For a whole UDP message NeedMore means the question is cut: the caller reads it as
// NotThis.
func ParseDNSQuery(msg []byte, out *DNSQuery) Status {
	*out = DNSQuery{}
	if len(msg) >= 3 && msg[2]&0x80 != 0 {
		return NotThis
	}
	if len(msg) >= 6 && be16(msg[4:]) == 0 {
		return NotThis
	}
	if len(msg) < dnsHeaderLen {
		return NeedMore
	}
	flags := be16(msg[2:])
	out.ID = be16(msg)
	out.Opcode = uint8(flags>>11) & 0xf
	out.QDCount, out.ANCount = be16(msg[4:]), be16(msg[6:])
	out.NSCount, out.ARCount = be16(msg[8:]), be16(msg[10:])
	name, _, next, st, full := readName(msg, dnsHeaderLen, out.name[:0], true)
	switch {
	case st == nameCut, st == nameOK && len(msg)-next < 4:
		*out = DNSQuery{}
		return NeedMore
	case st != nameOK || full: // full cannot happen: the buffer holds any valid name
		*out = DNSQuery{}
		return NotThis
	}
	out.QName = name
	out.QType, out.QClass = be16(msg[next:]), be16(msg[next+2:])
	return Found
}
