package reports

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/phonehome/phonehome/capture"
	"github.com/phonehome/phonehome/catalog"
	"github.com/phonehome/phonehome/classify"
)

// aliasingRun is a run in which every slice and map a Report can hold comes
// out non-empty for every edition of 1909: a documented name seen with a
// protocol the page does not give, one matched only through a CNAME, an
// undocumented name with aliases, and an unattributed address. Each call
// builds it anew, so one copy can be changed and held against another.
func aliasingRun() *classify.Run {
	addr := netip.MustParseAddr("20.1.2.3")
	seen := &classify.NameStat{
		Name: "settings-win.data.microsoft.com", Evidence: map[string]int{"sni": 2, "http-host": 1}, Flows: 3, Starts: []int64{t0.UnixNano()},
		BytesOut: 100, BytesIn: 200, First: t0, Last: t0.Add(time.Minute),
		Protocols: []string{"HTTP", "TLS 1.3"}, Paths: []string{"/a"}, HostLevel: true, Addrs: []netip.Addr{addr},
	}
	via := &classify.NameStat{
		Name: "wns.example.net", Evidence: map[string]int{"dns": 1}, Flows: 1, First: t0, Last: t0,
		Protocols: []string{"tcp/443"}, Aliases: []string{"settings-win.data.microsoft.com"}, HostLevel: true,
		Addrs: []netip.Addr{addr},
	}
	undoc := &classify.NameStat{
		Name: "api.vendor-updater.net", Evidence: map[string]int{"dns": 1}, Flows: 1, First: t0, Last: t0, Starts: []int64{t0.UnixNano()},
		Protocols: []string{"TLS 1.2"}, Aliases: []string{"cdn.vendor-updater.net"}, HostLevel: true,
		Addrs: []netip.Addr{addr, netip.MustParseAddr("20.1.2.4")},
	}
	run := testRun(seen, via, undoc)
	run.Unattributed[netip.MustParseAddr("51.124.78.146")] = &classify.AddrStat{
		Addr: netip.MustParseAddr("51.124.78.146"), Flows: 1, First: t0, Last: t0, Ports: []string{"tcp/443", "udp/123"},
	}
	// Two ambiguous sets: one whose names both match a pattern, one whose
	// names match none in common.
	run.Ambiguous = map[string]*classify.AmbiguousStat{
		"fe3cr.delivery.mp.microsoft.com\ntlu.dl.delivery.mp.microsoft.com": {
			Names: []string{"fe3cr.delivery.mp.microsoft.com", "tlu.dl.delivery.mp.microsoft.com"}, Aliases: make([][]string, 2),
			Flows: 1, First: t0, Last: t0, Protocols: []string{"tcp/443"}, Addrs: []netip.Addr{addr},
		},
		"api.vendor-updater.net\nsettings-win.data.microsoft.com": {
			Names:   []string{"api.vendor-updater.net", "settings-win.data.microsoft.com"},
			Aliases: [][]string{{"cdn.vendor-updater.net"}, {"settings.trafficmanager.net"}},
			Flows:   2, First: t0, Last: t0, Protocols: []string{"tcp/443"}, Addrs: []netip.Addr{addr},
		},
	}
	run.Bounds = []capture.Bound{{What: "names", Limit: 100000, Times: 1}}
	run.Anomalies = []classify.Anomaly{{Kind: classify.AnomalySNIChanged, What: "a later ClientHello named another server",
		Flows: 1, Names: []string{"api.vendor-updater.net"}}}
	run.Bounds = append(run.Bounds, capture.Bound{What: "IPv4 reassembly timeout", Limit: 30, Times: 1})
	run.Inputs = []string{"a.pcapng"}
	run.Damage = []capture.Damage{{File: "a.pcapng", Offset: 24, Reason: "cut"}}
	run.InputStats = []capture.Input{{Name: "a.pcapng", Format: "pcapng", Bytes: 100, Frames: 1}}
	run.Sessions = []capture.Session{
		{Interface: "br0", Start: time.Unix(100, 0), End: time.Unix(200, 0), Ended: capture.EndRunning, Dropped: 3},
		{Interface: "br0", Start: time.Unix(300, 0), End: time.Unix(400, 0), Ended: capture.EndStopped},
	}
	run.Unsupported = map[string]uint64{"ieee802_11": 3}
	return run
}

// TestReportSharesNothing changes every slice element, map entry and field
// reachable from one edition of a report and checks that the other editions,
// the run and the catalog are as they were; then does the same
// with the whole report. A caller may edit the Report it is given. The walk
// is reflective and the test fails when the fixture leaves a slice or map of
// the Report type empty, so a field added later is checked too.
func TestReportSharesNothing(t *testing.T) {
	all := []catalog.Edition{catalog.Home, catalog.Pro, catalog.Education, catalog.Enterprise}
	compare := func() (*Report, *classify.Run, *catalog.Catalog) {
		t.Helper()
		run := aliasingRun()
		cat := load(t)
		// "server" has no page: it fills EditionsWithoutPage.
		rep, err := Compare(run, cat, append(all, "server"))
		if err != nil {
			t.Fatal(err)
		}
		return rep, run, cat
	}
	// untouched holds what the run and catalog must still be.
	untouched := func(t *testing.T, run *classify.Run, cat *catalog.Catalog) {
		t.Helper()
		if d := diff(reflect.ValueOf(run), reflect.ValueOf(aliasingRun()), "Run"); d != "" {
			t.Errorf("changing the report changed the run it was made from: %s", d)
		}
		if d := diff(reflect.ValueOf(cat), reflect.ValueOf(load(t)), "Catalog"); d != "" {
			t.Errorf("changing the report changed the catalog: %s", d)
		}
	}

	// Every slice and map the Report type can hold must be reached non-empty.
	rep, _, _ := compare()
	want := map[string]bool{}
	containers(reflect.TypeOf(Report{}), "Report", want)
	reached := map[string]bool{}
	poison(t, reflect.ValueOf(rep).Elem(), "Report", reached)
	for path := range want {
		if !reached[path] {
			t.Errorf("%s is empty in the fixture: fill it in aliasingRun so this test can check it is not shared", path)
		}
	}

	for i := range all {
		t.Run(string(all[i]), func(t *testing.T) {
			rep, run, cat := compare()
			fresh, _, _ := compare()
			name := fresh.Editions[i].Edition
			poison(t, reflect.ValueOf(&rep.Editions[i]).Elem(), "Report.Editions[]", map[string]bool{})
			for j := range rep.Editions {
				if d := diff(reflect.ValueOf(rep.Editions[j]), reflect.ValueOf(fresh.Editions[j]), "Edition"); j != i && d != "" {
					t.Errorf("changing edition %s changed edition %s: %s", name, fresh.Editions[j].Edition, d)
				}
			}
			rest, freshRest := *rep, *fresh
			rest.Editions, freshRest.Editions = nil, nil
			if d := diff(reflect.ValueOf(rest), reflect.ValueOf(freshRest), "Report"); d != "" {
				t.Errorf("changing edition %s changed the rest of the report: %s", name, d)
			}
			untouched(t, run, cat)
		})
	}
	t.Run("whole_report", func(t *testing.T) {
		rep, run, cat := compare()
		poison(t, reflect.ValueOf(rep).Elem(), "Report", map[string]bool{})
		untouched(t, run, cat)
	})
}

var timeType = reflect.TypeOf(time.Time{})

// containers records the path of every slice and map type reachable from t
// through exported fields, slice and map elements.
func containers(t reflect.Type, path string, out map[string]bool) {
	switch t.Kind() {
	case reflect.Struct:
		if t == timeType {
			return
		}
		for i := 0; i < t.NumField(); i++ {
			if f := t.Field(i); f.IsExported() {
				containers(f.Type, path+"."+f.Name, out)
			}
		}
	case reflect.Slice:
		out[path] = true
		containers(t.Elem(), path+"[]", out)
	case reflect.Map:
		out[path] = true
		containers(t.Elem(), path+"[]", out)
	case reflect.Pointer:
		containers(t.Elem(), path, out)
	}
}

// poison changes every value reachable from v in place: each string, number,
// bool and time, each slice element and map value, and adds an element to
// each slice and a key to each map. It records in reached the path of each non-empty slice and map.
func poison(t *testing.T, v reflect.Value, path string, reached map[string]bool) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "\x00poison")
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(v.Int() + 1)
	case reflect.Uint, reflect.Uint64, reflect.Uint32, reflect.Uint16, reflect.Uint8:
		v.SetUint(v.Uint() + 1)
	case reflect.Float64:
		v.SetFloat(v.Float() + 1)
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(v.Interface().(time.Time).Add(time.Hour)))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				poison(t, v.Field(i), path+"."+v.Type().Field(i).Name, reached)
			}
		}
	case reflect.Slice:
		if v.Len() > 0 {
			reached[path] = true
		}
		for i := 0; i < v.Len(); i++ {
			poison(t, v.Index(i), path+"[]", reached)
		}
		// An append must not write into an array another slice reads.
		if v.Len() > 0 {
			v.Set(reflect.Append(v, v.Index(0)))
		}
	case reflect.Map:
		if v.Len() > 0 {
			reached[path] = true
		}
		keys := v.MapKeys()
		for _, k := range keys {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			poison(t, e, path+"[]", reached)
			v.SetMapIndex(k, e)
		}
		if len(keys) > 0 {
			k := reflect.New(v.Type().Key()).Elem()
			k.Set(keys[0])
			poison(t, k, path+"{}", map[string]bool{})
			v.SetMapIndex(k, v.MapIndex(keys[0]))
		}
	case reflect.Pointer:
		if !v.IsNil() {
			poison(t, v.Elem(), path, reached)
		}
	default:
		t.Fatalf("%s: cannot change a %s; teach poison about it", path, v.Kind())
	}
}

// diff returns the path of the first place where a and b differ, or "".
func diff(a, b reflect.Value, path string) string {
	if reflect.DeepEqual(a.Interface(), b.Interface()) {
		return ""
	}
	switch a.Kind() {
	case reflect.Pointer:
		if !a.IsNil() && !b.IsNil() {
			return diff(a.Elem(), b.Elem(), path)
		}
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if f := a.Type().Field(i); f.IsExported() {
				if d := diff(a.Field(i), b.Field(i), path+"."+f.Name); d != "" {
					return d
				}
			}
		}
	case reflect.Slice:
		if a.Len() == b.Len() {
			for i := 0; i < a.Len(); i++ {
				if d := diff(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); d != "" {
					return d
				}
			}
		}
	case reflect.Map:
		if a.Len() == b.Len() {
			for _, k := range a.MapKeys() {
				if bv := b.MapIndex(k); bv.IsValid() {
					if d := diff(a.MapIndex(k), bv, fmt.Sprintf("%s[%v]", path, k)); d != "" {
						return d
					}
				}
			}
		}
	}
	return fmt.Sprintf("%s = %v; want %v", path, a, b)
}

// TestStrSlabCopiesDoNotOverlap: an append to one copy must not write into
// the next one carved from the same array.
func TestStrSlabCopiesDoNotOverlap(t *testing.T) {
	var slab strSlab
	a := slab.copy([]string{"a1", "a2"})
	b := slab.copy([]string{"b1"})
	a = append(a, "a3")
	if b[0] != "b1" {
		t.Errorf("append to the first copy changed the second: %q; want b1", b[0])
	}
	if g := strings.Join(a, ","); g != "a1,a2,a3" {
		t.Errorf("first copy = %s; want a1,a2,a3", g)
	}
	if slab.copy(nil) != nil {
		t.Errorf("copy(nil) is not nil")
	}
}
