package capture

// Bound records that a limit was reached while reading or classifying, which
// a report must say because it may have changed the result. It is the one
// bound type from capture to report: the reader's (FileSet.Bounds) and the
// classifier's (classify.Run.Bounds) are both Bounds, and the JSON report
// writes them as they are.
type Bound struct {
	// What says which limit, and what reaching it did ("IPv4 reassembly
	// timeout: an incomplete datagram dropped").
	What string `json:"what"`
	// Limit is the limit's value in the unit What names; 0 when the line is
	// a count with no limit (fragments that disagree).
	Limit int `json:"limit"`
	// Times is how often it was reached.
	Times uint64 `json:"times"`
}
