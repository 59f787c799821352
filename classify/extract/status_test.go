package extract

// String names a Status in test failures ("found", "need_more",
// "not_this"). Only tests print one, so it is declared here: the parsers'
// callers branch on the value and never show it.
func (s Status) String() string {
	switch s {
	case Found:
		return "found"
	case NeedMore:
		return "need_more"
	case NotThis:
		return "not_this"
	}
	return "status(invalid)"
}
