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
		// Groups a user may give their own tokens (new-api's option), by
		// name with a description; empty, only admins choose.
		"UserUsableGroups": {Kind: OptJSON, Default: "{}", Check: checkUsableGroups},
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

// checkUsableGroups accepts a JSON object of group names (as GroupRatio
// names them) to descriptions.
func checkUsableGroups(value string) error {
	m := map[string]string{}
	if err := json.Unmarshal([]byte(value), &m); err != nil {
		return fmt.Errorf("want a JSON object of group names to descriptions")
	}
	for k, v := range m {
		if k == "" || len(k) > 32 {
			return fmt.Errorf("group names must be 1 to 32 characters")
		}
		if len(v) > 256 {
			return fmt.Errorf("the description of %q is longer than 256 bytes", k)
		}
	}
	return nil
}

// UsableGroup is a group a user may give their tokens, with its ratio.
type UsableGroup struct {
	Ratio float64 `json:"ratio"`
	Desc  string  `json:"desc"`
}

// UsableGroups are the groups a user in group own may give their tokens:
// their own and those UserUsableGroups lists, each only while GroupRatio
// defines it.
func UsableGroups(o *OptionSnapshot, own string) map[string]UsableGroup {
	out := map[string]UsableGroup{}
	for name, desc := range o.parsed.UsableGroups {
		if HasGroup(o, name) {
			out[name] = UsableGroup{Ratio: GroupRatio(o, name), Desc: desc}
		}
	}
	if _, listed := out[own]; !listed {
		out[own] = UsableGroup{Ratio: GroupRatio(o, own)}
	}
	return out
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
