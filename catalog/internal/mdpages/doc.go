// Package mdpages reads the tables of Microsoft's "connection endpoints"
// pages from their markdown source (MicrosoftDocs/windows-itpro-docs,
// windows/privacy/*.md) into endpoint rows.
//
// It reads markdown, not rendered HTML, because rendering eats escapes: the
// source cell `\*displaycatalog.mp.microsoft.com/*` renders as
// "displaycatalog.mp.microsoft.com/" on learn.microsoft.com.
//
// Three table layouts occur:
//
//   - Destination | Protocol | Description (Windows 10 non-Enterprise pages,
//     1709 to 2004): one endpoint per row.
//   - Area | Description | Protocol | Destination ("Format B": Enterprise pages
//     from 1903, non-Enterprise pages from 20H2, Windows 11): an empty Area or
//     Description cell carries the one above it down; a row whose Destination
//     is a "[Learn how to turn off ...](...)" link, or that has neither
//     Protocol nor Destination, only sets Area and Description.
//   - Source process | Protocol | Destination ("Format A": Enterprise pages
//     1709, 1803, 1809): one small table per paragraph; Area is the "##"
//     heading above it and Description the paragraph before it.
//
// Cells are cleaned the same way everywhere: backslash escapes of ASCII
// punctuation are removed ("\*", "\_", "\/"; a backslash before a letter, as in
// "system32\AppHostRegistrationVerifier.exe", stays), "**" bold markers and
// backticks are dropped, "[text](url)" links keep their text, "<br>" and
// "</br>" separate destinations (and are a space elsewhere), and runs of white
// space (TABs included) become one space. CRLF line endings are accepted.
//
// Parse is a pure function over bytes: no I/O, no globals, and it does not
// panic on any input (FuzzParse). Rows it cannot understand are reported as
// *Error values carrying file:line, joined into one error; the rows it could
// read are returned alongside.
package mdpages
