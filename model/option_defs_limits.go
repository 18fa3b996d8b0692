package model

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The options of issue 11: group rate limits, sticky routing and soft
// failure (demoting a failing channel instead of disabling it).
func init() {
	defineOptions(map[string]OptionDef{
		// GroupRateLimits maps a group to limits shared by every call made
		// in that group (all its users and tokens together), e.g.
		// {"default": {"rpm_limit": 600, "max_parallel_requests": 20}}.
		"GroupRateLimits": {Kind: OptJSON, Default: "{}", Check: checkGroupLimits},
		// StickyRoutingEnabled sends a token's calls for one model to the
		// channel and key that served its last one, while that channel is
		// available, for StickyRoutingSeconds after the last call.
		"StickyRoutingEnabled": {Kind: OptBool, Default: "false"},
		"StickyRoutingSeconds": {Kind: OptInt, Default: "300", Min: 1},
		// ChannelDemoteEnabled: a channel that fails ChannelCooldownFailures
		// times in a row, or answers as a dead key would, drops below every
		// other tier for ChannelDemoteSeconds instead of resting or being
		// disabled; it comes back once a test passes after that.
		"ChannelDemoteEnabled": {Kind: OptBool, Default: "false"},
		"ChannelDemoteSeconds": {Kind: OptInt, Default: "300", Min: 1},
	})
}

func checkGroupLimits(value string) error {
	m := map[string]Limits{}
	dec := json.NewDecoder(strings.NewReader(value))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("want a JSON object of groups to {rpm_limit, tpm_limit, rpd_limit, max_parallel_requests}")
	}
	for g, l := range m {
		if err := l.Validate(); err != nil {
			return fmt.Errorf("group %q: %s", g, err.Error())
		}
	}
	return nil
}

// GroupLimits is group's shared rate limits in snap (zero when unset).
func (o *OptionSnapshot) GroupLimits(group string) Limits {
	return o.parsed.GroupLimits[group]
}

// StickyRouting reports whether sticky routing is on and how long a
// token's choice of channel lasts after its last call.
func (o *OptionSnapshot) StickyRouting() (bool, time.Duration) {
	return o.parsed.StickyRouting, o.parsed.StickyFor
}

// ChannelDemotion reports whether failing channels are demoted instead of
// disabled, and for how long at least.
func (o *OptionSnapshot) ChannelDemotion() (bool, time.Duration) {
	return o.Bool("ChannelDemoteEnabled"), time.Duration(o.Int("ChannelDemoteSeconds")) * time.Second
}
