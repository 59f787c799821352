// Package phonehome is the root of a passive traffic classifier that holds an
// idle Windows machine's traffic against Microsoft's documented connection
// endpoints. The command is in cmd/phonehome; the packages, in the order
// packets travel, are capture, classify/extract, classify, classify/match,
// catalog and reports.
package phonehome
