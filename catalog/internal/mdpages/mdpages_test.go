package mdpages

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestNormaliseProtocols(t *testing.T) {
	tests := []struct {
		name string
		cell string
		want []string
	}{
		{"empty", "", nil},
		{"blank", "   ", nil},
		{"http", "HTTP", []string{HTTP}},
		{"https", "HTTPS", []string{HTTPS}},
		{"tls_space", "TLS v1.2", []string{TLS12}},
		{"tls_upper_v", "TLS V1.2", []string{TLS12}},
		{"tls_joined", "TLSV1.2", []string{TLS12}},
		{"tls_lower_v", "TLSv1.2", []string{TLS12}},
		{"http_tls", "HTTP/TLS v1.2", []string{HTTP, TLS12}},
		{"https_tls_upper", "HTTPS/TLS V1.2", []string{HTTPS, TLS12}},
		{"tls_escaped_slash_https", `TLSv1.2\/HTTPS`, []string{HTTPS, TLS12}},
		{"tls_https_http", "TLSv1.2/HTTPS/HTTP", []string{HTTP, HTTPS, TLS12}},
		{"http_space_slash_tls", "HTTP/ TLS v1.2", []string{HTTP, TLS12}},
		{"spaced_slash", "HTTP / HTTPS", []string{HTTP, HTTPS}},
		{"backslash_separator", `HTTP \ HTTPS`, []string{HTTP, HTTPS}},
		{"reversed_order", "HTTPS/HTTP", []string{HTTP, HTTPS}},
		{"repeated", "HTTP/HTTP", []string{HTTP}},
		{"lower_case", "https", []string{HTTPS}},
		{"tab", "\tHTTPS ", []string{HTTPS}},
		{"bold", "**HTTPS**", []string{HTTPS}},
		{"tls13", "TLSv1.3", []string{TLS13}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormaliseProtocols(tt.cell)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("NormaliseProtocols(%q) = %q, %v; want %q", tt.cell, got, err, tt.want)
			}
		})
	}
	for _, bad := range []string{"FTP", "TLS v1.1", "HTTP/QUIC", "/"} {
		if got, err := NormaliseProtocols(bad); err == nil {
			t.Errorf("NormaliseProtocols(%q) = %q, nil; want an error", bad, got)
		}
	}
}

func TestClean(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"escaped_star", `\*displaycatalog.mp.microsoft.com/*`, "*displaycatalog.mp.microsoft.com/*"},
		{"escaped_underscore", `a\_b`, "a_b"},
		{"escaped_slash", `TLSv1.2\/HTTPS`, "TLSv1.2/HTTPS"},
		{"backslash_before_letter_kept", `system32\AppHostRegistrationVerifier.exe`, `system32\AppHostRegistrationVerifier.exe`},
		{"backticks", "`tile-service.weather.microsoft.com`", "tile-service.weather.microsoft.com"},
		{"bold", "**Destination**", "Destination"},
		{"link", "[Learn how](a.md#x) now", "Learn how now"},
		{"br_is_space", "a<br>b</br>c<BR/>d", "a b c d"},
		{"span_anchor", `cs12.<span class="anchor" id="_Hlk500262422"></span>wpc.v0cdn.net`, "cs12.wpc.v0cdn.net"},
		{"tabs_and_spaces", "\ta  \t b  ", "a b"},
		{"lone_lt", "a < b", "a < b"},
		{"unclosed_link", "[a](b", "a](b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clean(tt.in, false); got != tt.want {
				t.Errorf("clean(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

// pageHome is shaped like the 1909 non-Enterprise page: bold headers, rows
// without a closing pipe, trailing double spaces, CRLF, TABs.
const pageHome = "---\r\ntitle: x\r\n---\r\n# Title\r\n\r\n## Windows 10 Home\r\n\r\n" +
	"| **Destination** | **Protocol** | **Description** |\r\n| --- | --- | --- |\r\n" +
	"|arc.msn.com|HTTP/TLS v1.2|Windows Spotlight  \r\n" +
	"|\\*displaycatalog.mp.microsoft.com/*|HTTP/TLS v1.2|Store\r\n" +
	"| Inference.location.live.net\t| TLSV1.2 |\tLocation |\r\n" +
	"\r\n## Windows 10 Pro\r\n\r\n| Destination | Protocol | Description |\r\n|---|---|---|\r\n" +
	"|watson.telemetry.microsoft.com*|HTTPS/TLS v1.2|Diagnostic Data\r\n"

// pageB is shaped like the 1909 Enterprise page (Format B).
const pageB = `## Windows 10 1909 Enterprise connection endpoints

|Area|Description|Protocol|Destination|
|----------------|----------|----------|------------|
|Apps|||[Learn how to turn off traffic to the following endpoint(s).](x.md#bkmk-windowsstore)|
||The weather app.|HTTP|tile-service.weather.microsoft.com|
|||HTTP|tile-service.weather.microsoft.com/en-us/livetile/preinstall|
|Licensing|Online activation.||[Learn how to turn off traffic to all of the following endpoint(s).](x.md)|
|||HTTPS|*licensing.mp.microsoft.com|
|Microsoft Edge|Edge.|HTTPS/HTTP|edge.activity.windows.com </br> edge.microsoft.com|
|Xbox Live|Xbox.|
|||HTTPS|www.xboxab.com|
|
`

// pageA is shaped like the 1809 Enterprise page (Format A).
const pageA = "## Apps\n\nThe following endpoint is used for OneNote Live Tile.\nIf you [turn off traffic](x.md#a), no tiles.\n\n" +
	"| Source process | Protocol | Destination |\n|:--------------:|:--------:|:------------|\n" +
	"|  | HTTPS   | `cdn.onenote.net/livetile/?Language=en-US` |\n" +
	"| svchost.exe |             | `oem.twimg.com/windows/tile.xml` |\n\n" +
	"## Maps\n\nMaps text.\n\n| Source process | Protocol | Destination |\n|---|---|---|\n| svchost | HTTP \\ HTTPS | `*.g.akamaiedge.net` |\n"

func TestParse(t *testing.T) {
	type flat struct {
		Line                             int
		Section, Area, Desc, Proc, Proto string
		Text, Pattern                    string
	}
	tests := []struct {
		name string
		src  string
		want []flat
	}{
		{"three_columns_crlf", pageHome, []flat{
			{10, "Windows 10 Home", "", "Windows Spotlight", "", "HTTP,TLS 1.2", "arc.msn.com", "arc.msn.com"},
			{11, "Windows 10 Home", "", "Store", "", "HTTP,TLS 1.2", "*displaycatalog.mp.microsoft.com/*", "*displaycatalog.mp.microsoft.com/*"},
			{12, "Windows 10 Home", "", "Location", "", "TLS 1.2", "Inference.location.live.net", "inference.location.live.net"},
			{18, "Windows 10 Pro", "", "Diagnostic Data", "", "HTTPS,TLS 1.2", "watson.telemetry.microsoft.com*", "watson.telemetry.microsoft.com*"},
		}},
		{"format_b_carry_over", pageB, []flat{
			{6, "Windows 10 1909 Enterprise connection endpoints", "Apps", "The weather app.", "", "HTTP", "tile-service.weather.microsoft.com", "tile-service.weather.microsoft.com"},
			{7, "Windows 10 1909 Enterprise connection endpoints", "Apps", "The weather app.", "", "HTTP", "tile-service.weather.microsoft.com/en-us/livetile/preinstall", "tile-service.weather.microsoft.com/en-us/livetile/preinstall"},
			{9, "Windows 10 1909 Enterprise connection endpoints", "Licensing", "Online activation.", "", "HTTPS", "*licensing.mp.microsoft.com", "*licensing.mp.microsoft.com"},
			{10, "Windows 10 1909 Enterprise connection endpoints", "Microsoft Edge", "Edge.", "", "HTTP,HTTPS", "edge.activity.windows.com", "edge.activity.windows.com"},
			{10, "Windows 10 1909 Enterprise connection endpoints", "Microsoft Edge", "Edge.", "", "HTTP,HTTPS", "edge.microsoft.com", "edge.microsoft.com"},
			{12, "Windows 10 1909 Enterprise connection endpoints", "Xbox Live", "Xbox.", "", "HTTPS", "www.xboxab.com", "www.xboxab.com"},
		}},
		{"format_a_paragraph", pageA, []flat{
			{8, "Apps", "Apps", "The following endpoint is used for OneNote Live Tile. If you turn off traffic, no tiles.", "", "HTTPS", "cdn.onenote.net/livetile/?Language=en-US", "cdn.onenote.net/livetile/?Language=en-US"},
			{9, "Apps", "Apps", "The following endpoint is used for OneNote Live Tile. If you turn off traffic, no tiles.", "svchost.exe", "", "oem.twimg.com/windows/tile.xml", "oem.twimg.com/windows/tile.xml"},
			{17, "Maps", "Maps", "Maps text.", "svchost", "HTTP,HTTPS", "*.g.akamaiedge.net", "*.g.akamaiedge.net"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := Parse("page.md", []byte(tt.src))
			if err != nil {
				t.Fatalf("Parse = %v", err)
			}
			var got []flat
			for _, r := range rows {
				for _, d := range r.Destinations {
					got = append(got, flat{r.Line, r.Section, r.Area, r.Description, r.Process, strings.Join(r.Protocols, ","), d.Text, d.Pattern})
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Parse rows:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		line int
		msg  string
	}{
		{"unknown_protocol", "|Destination|Protocol|\n|-|-|\n|a.com|FTP|\n", 3, `unknown name "FTP"`},
		{"bad_host", "|Destination|Protocol|\n|-|-|\n|a.com:443|HTTP|\n", 3, "not allowed in a host"},
		{"prose_destination", "|Destination|Protocol|\n|-|-|\n|see below|HTTP|\n", 3, `"see below"`},
		{"protocol_without_destination", "|Destination|Protocol|\n|-|-|\n||HTTP|\n", 3, "no destination"},
		{"too_many_cells", "|Destination|Protocol|\n|-|-|\n|a.com|HTTP|x|\n", 3, "3 cells"},
		{"row_without_header", "text\n\n|a.com|HTTP|\n", 3, "without a header"},
		{"unknown_column", "|Destination|Port|\n|-|-|\n|a.com|443|\n", 1, `unknown column "Port"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.md", []byte(tt.src))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse = %v; want an *Error", err)
			}
			if e.File != "p.md" || e.Line != tt.line || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("Parse error = %v; want p.md:%d: ...%s...", err, tt.line, tt.msg)
			}
		})
	}
}

// FuzzParse checks that Parse never panics, and that every destination it
// returns has a well-formed pattern.
func FuzzParse(f *testing.F) {
	for _, s := range []string{pageHome, pageB, pageA, "|a|\n|-|\n|b|\n\n|c|\n", "| Destination |\n|---|\n|`a`</br>[b](c)<span x>|\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		rows, _ := Parse("fuzz.md", src)
		for _, r := range rows {
			if len(r.Destinations) == 0 {
				t.Fatalf("row at line %d has no destinations", r.Line)
			}
			for _, d := range r.Destinations {
				p, err := NormaliseDestination(d.Text)
				if err != nil || p != d.Pattern {
					t.Fatalf("destination %q: pattern %q, renormalised %q, %v", d.Text, d.Pattern, p, err)
				}
			}
		}
	})
}

// TestCleanLinear cleans cells of 2 MiB built to make a scan for what comes
// further on quadratic ('[' with "](" only at the end, "<a" with no '>',
// "](" with no ')'): linear, each takes milliseconds; quadratic, minutes.
func TestCleanLinear(t *testing.T) {
	const n = 1 << 20
	for name, cell := range map[string]string{
		"brackets":     strings.Repeat("[a", n) + "](x)",
		"tags":         strings.Repeat("<a", n),
		"links_no_end": strings.Repeat("](", n),
	} {
		if got := clean(cell, false); len(got) > len(cell) {
			t.Errorf("%s: clean gave %d bytes of %d", name, len(got), len(cell))
		}
	}
}
