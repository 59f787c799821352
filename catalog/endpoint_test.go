package catalog

import "testing"

func TestEndpointKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"wns.windows.com", "wns.windows.com"},
		{"*.wns.windows.com", "wns.windows.com"},
		{"*login.live.com", "login.live.com"},
		{"arc.msn.com*", "arc.msn.com"},
		{"ctldl.windowsupdate.com/*", "ctldl.windowsupdate.com"},
		{"*displaycatalog.mp.microsoft.com/*", "displaycatalog.mp.microsoft.com"},
		{"go.microsoft.com/fwlink/", "go.microsoft.com/fwlink"},
		{"Inference.Location.live.net", "inference.location.live.net"},
		{"", ""},
		{"*", ""},
	} {
		if got := EndpointKey(tc.in); got != tc.want {
			t.Errorf("EndpointKey(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestFoldNumbered(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"v10c.events.data.microsoft.com", "v#.events.data.microsoft.com"},
		{"v10.events.data.microsoft.com", "v#.events.data.microsoft.com"},
		{"v20.events.data.microsoft.com", "v#.events.data.microsoft.com"},
		{"kv801.prod.do.dsp.mp.microsoft.com", "kv#.prod.do.dsp.mp.microsoft.com"},
		{"2.dl.delivery.mp.microsoft.com", "#.dl.delivery.mp.microsoft.com"},
		{"a122.dscd.akamai.net", "a#.dscd.akamai.net"},
		{"events.data.microsoft.com", "events.data.microsoft.com"},
		{"1storecatalogrevocation.storequality.microsoft.com", "1storecatalogrevocation.storequality.microsoft.com"},
		{"v10ab.events.data.microsoft.com", "v10ab.events.data.microsoft.com"},
		{"v10-c.events.data.microsoft.com", "v10-c.events.data.microsoft.com"},
		{"v10", "v10"},
		{"v10.", "v10."},
		{"1.2.3.4", "1.2.3.4"},
		{"10.0.0.1/path", "10.0.0.1/path"},
	} {
		if got := FoldNumbered(tc.in); got != tc.want {
			t.Errorf("FoldNumbered(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}
