package extract

// Status is the outcome of a parser: Found, NeedMore or NotThis. The zero value is NotThis, so a Status that was
// never set is never mistaken for success.
type Status uint8

const (
	// NotThis means the bytes are not this protocol, or are this protocol but malformed. More bytes will not
	// change the answer: a caller should stop buffering and count the flow as unclassified or malformed.
	NotThis Status = iota
	// NeedMore means the bytes so far are a valid prefix and the message ends beyond them. The caller should
	// call again with the same bytes plus more (from the same first byte) when it has them.
	NeedMore
	// Found means a complete message was parsed and the output is filled in.
	Found
)
