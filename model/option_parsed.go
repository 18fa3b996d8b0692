package model

import (
	"encoding/json"
	"strconv"
	"time"
)

// Parsed holds the options read on every relayed call (prices, retries,
// keep-alives, logging, routing) and those whose text must be parsed
// (ratio maps, group limits, the period zone), typed and parsed once per
// snapshot. A call reads fields rather than a dozen map reads by name and
// number parses, each several times dearer on a call that starts on cold
// caches (issue 14). A field reads its option's default when the stored
// text does not parse (the accessors by name read zero then).
type Parsed struct {
	// Ratio maps: ModelRatio, CompletionRatio, CacheRatio, GroupRatio.
	ModelRatio, CompletionRatio, CacheRatio, GroupRatio map[string]float64
	// GroupLimits is GroupRateLimits by group.
	GroupLimits map[string]Limits
	// UsableGroups is UserUsableGroups: group name to description.
	UsableGroups map[string]string
	// PeriodZone is QuotaPeriodTimeZone (UTC when unknown).
	PeriodZone *time.Location

	UnknownModelRatio, CacheCreationRatio float64
	PreConsumedQuota                      int
	RetryTimes                            int
	// StreamKeepAlive is StreamKeepAliveSeconds; 0 is off.
	StreamKeepAlive    time.Duration
	LogContentEnabled  bool
	LogContentMaxBytes int
	StickyRouting      bool
	StickyFor          time.Duration
	// QuotaRemindThreshold is read by every flush (quota_notice.go); 0 is
	// off.
	QuotaRemindThreshold int64
}

// Parsed returns the snapshot's typed options. They are shared: callers
// only read them.
func (o *OptionSnapshot) Parsed() *Parsed { return &o.parsed }

func parseOptions(o *OptionSnapshot) Parsed {
	p := Parsed{
		ModelRatio:           parseRatioMap(o.String("ModelRatio")),
		CompletionRatio:      parseRatioMap(o.String("CompletionRatio")),
		CacheRatio:           parseRatioMap(o.String("CacheRatio")),
		GroupRatio:           parseRatioMap(o.String("GroupRatio")),
		GroupLimits:          map[string]Limits{},
		PeriodZone:           time.UTC,
		UnknownModelRatio:    o.floatOr("UnknownModelRatio"),
		CacheCreationRatio:   o.floatOr("CacheCreationRatio"),
		PreConsumedQuota:     int(o.intOr("PreConsumedQuota")),
		RetryTimes:           int(o.intOr("RetryTimes")),
		StreamKeepAlive:      time.Duration(o.intOr("StreamKeepAliveSeconds")) * time.Second,
		LogContentEnabled:    o.Bool("LogContentEnabled"),
		LogContentMaxBytes:   int(o.intOr("LogContentMaxBytes")),
		StickyRouting:        o.Bool("StickyRoutingEnabled"),
		StickyFor:            time.Duration(o.intOr("StickyRoutingSeconds")) * time.Second,
		QuotaRemindThreshold: o.intOr("QuotaRemindThreshold"),
	}
	_ = json.Unmarshal([]byte(o.String("GroupRateLimits")), &p.GroupLimits)
	_ = json.Unmarshal([]byte(o.String("UserUsableGroups")), &p.UsableGroups)
	if loc, err := time.LoadLocation(o.String("QuotaPeriodTimeZone")); err == nil {
		p.PeriodZone = loc
	}
	return p
}

// intOr is key as an integer, or its default when the text is not one.
func (o *OptionSnapshot) intOr(key string) int64 {
	n, err := strconv.ParseInt(o.raw[key], 10, 64)
	if err != nil {
		n, _ = strconv.ParseInt(optionDefs[key].Default, 10, 64)
	}
	return n
}

// floatOr is key as a number, or its default when the text is not one.
func (o *OptionSnapshot) floatOr(key string) float64 {
	f, err := strconv.ParseFloat(o.raw[key], 64)
	if err != nil {
		f, _ = strconv.ParseFloat(optionDefs[key].Default, 64)
	}
	return f
}
