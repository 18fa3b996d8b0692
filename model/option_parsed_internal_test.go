package model

import (
	"testing"
	"time"
)

func defaultRaw() map[string]string {
	raw := make(map[string]string, len(optionDefs))
	for k, d := range optionDefs {
		raw[k] = d.Default
	}
	return raw
}

// TestParsedOptionsReadTheSnapshotsText pins the typed options against the
// text they are parsed from: the defaults, set values, and a default
// where the stored text does not parse.
func TestParsedOptionsReadTheSnapshotsText(t *testing.T) {
	p := newSnapshot(defaultRaw()).Parsed()
	if p.RetryTimes != 2 || p.PreConsumedQuota != 500 || p.StreamKeepAlive != 10*time.Second ||
		p.CacheCreationRatio != 1.25 || p.UnknownModelRatio != 0 || p.LogContentEnabled ||
		p.LogContentMaxBytes != 4096 || p.StickyRouting || p.StickyFor != 300*time.Second ||
		p.PeriodZone != time.UTC || p.GroupRatio["default"] != 1 || p.ModelRatio["gpt-4o"] == 0 || len(p.GroupLimits) != 0 {
		t.Fatalf("defaults read as %+v", *p)
	}

	raw := defaultRaw()
	raw["RetryTimes"] = "5"
	raw["StreamKeepAliveSeconds"] = "0"
	raw["LogContentEnabled"] = "true"
	raw["UnknownModelRatio"] = "30"
	raw["ModelRatio"] = `{"m-1":0.5}`
	raw["GroupRatio"] = `{"vip":0.8}`
	raw["GroupRateLimits"] = `{"vip":{"rpm_limit":60}}`
	raw["QuotaPeriodTimeZone"] = "Asia/Shanghai"
	raw["StickyRoutingEnabled"] = "true"
	raw["StickyRoutingSeconds"] = "60"
	snap := newSnapshot(raw)
	p = snap.Parsed()
	if p.RetryTimes != 5 || p.StreamKeepAlive != 0 || !p.LogContentEnabled || p.UnknownModelRatio != 30 ||
		p.PeriodZone.String() != "Asia/Shanghai" || p.GroupLimits["vip"].RPMLimit != 60 || !p.StickyRouting || p.StickyFor != time.Minute {
		t.Fatalf("set values read as %+v", *p)
	}
	if r, known := ModelRatioOf(snap, "m-1-2025"); r != 0.5 || !known {
		t.Fatalf("ModelRatioOf(m-1-2025) = %v, %v", r, known)
	}
	if r, known := ModelRatioOf(snap, "other"); r != 30 || known {
		t.Fatalf("an unpriced model reads %v, %v; want UnknownModelRatio", r, known)
	}
	if GroupRatio(snap, "vip") != 0.8 || GroupRatio(snap, "default") != 1 || HasGroup(snap, "default") || !HasGroup(snap, "vip") {
		t.Fatalf("group ratios read wrong: vip %v, default %v", GroupRatio(snap, "vip"), GroupRatio(snap, "default"))
	}

	raw["RetryTimes"] = "many"
	raw["CacheCreationRatio"] = ""
	raw["QuotaPeriodTimeZone"] = "Mars/Olympus"
	p = newSnapshot(raw).Parsed()
	if p.RetryTimes != 2 || p.CacheCreationRatio != 1.25 || p.PeriodZone != time.UTC {
		t.Fatalf("unparsable text read as RetryTimes %d, CacheCreationRatio %v, zone %v; want the defaults", p.RetryTimes, p.CacheCreationRatio, p.PeriodZone)
	}
}
