package model

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// The options of the quota economy: starting quota, invite rewards, the
// reservation budget and the group ratios.
func init() {
	defineOptions(map[string]OptionDef{
		"QuotaForNewUser":  {Kind: OptInt, Default: "0", Min: 0},
		"QuotaForInviter":  {Kind: OptInt, Default: "0", Min: 0},
		"QuotaForInvitee":  {Kind: OptInt, Default: "0", Min: 0},
		"PreConsumedQuota": {Kind: OptInt, Default: "500", Min: 0},
		"GroupRatio":       {Kind: OptJSON, Default: `{"default":1,"vip":1,"svip":1}`, Check: checkRatioMap},
		// Period quotas reset at 00:00 in this zone (ledger_period.go).
		"QuotaPeriodTimeZone": {Kind: OptString, Default: "UTC", Check: checkTimeZone},
	})
}

// checkTimeZone accepts an IANA zone name such as "UTC" or "Asia/Shanghai".
func checkTimeZone(value string) error {
	if value == "" || value == "Local" {
		return fmt.Errorf("want an IANA time zone name such as UTC or Asia/Shanghai")
	}
	if _, err := time.LoadLocation(value); err != nil {
		return fmt.Errorf("unknown time zone %q: want an IANA name such as UTC or Asia/Shanghai", value)
	}
	return nil
}

// checkRatioMap accepts a JSON object of names to non-negative numbers.
func checkRatioMap(value string) error {
	m := map[string]float64{}
	if err := json.Unmarshal([]byte(value), &m); err != nil {
		return fmt.Errorf("want a JSON object of names to numbers")
	}
	for k, v := range m {
		if k == "" || len(k) > 128 {
			return fmt.Errorf("names must be 1 to 128 characters")
		}
		if v < 0 {
			return fmt.Errorf("ratio of %q is negative", k)
		}
	}
	return nil
}

// GroupRatio is the billing ratio of group; an unknown group bills at 1.
func GroupRatio(o *OptionSnapshot, group string) float64 {
	if r, ok := o.parsed.GroupRatio[group]; ok {
		return r
	}
	return 1
}

// GroupNames lists the groups GroupRatio defines, sorted.
func GroupNames(o *OptionSnapshot) []string {
	m := o.parsed.GroupRatio
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// HasGroup reports whether GroupRatio defines group.
func HasGroup(o *OptionSnapshot, group string) bool {
	_, ok := o.parsed.GroupRatio[group]
	return ok
}
