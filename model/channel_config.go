package model

import (
	"encoding/json"

	"switchyard/common/channeltype"
)

// HiddenConfig is what the API shows in place of a secret config value
// (a Bedrock sk, a Vertex service account key); sent back unchanged, or
// empty, it keeps the stored value, as an empty key does.
const HiddenConfig = "(hidden)"

// hideSecrets is a channel's config with its type's secret values hidden.
func hideSecrets(typ int, config string) string {
	keys := channeltype.SecretConfig(typ)
	if len(keys) == 0 || config == "" {
		return config
	}
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(config), &m) != nil {
		return config
	}
	hidden, _ := json.Marshal(HiddenConfig)
	changed := false
	for _, k := range keys {
		if _, ok := m[k]; ok {
			m[k] = hidden
			changed = true
		}
	}
	if !changed {
		return config
	}
	out, err := json.Marshal(m)
	if err != nil {
		return config
	}
	return string(out)
}

// keepSecrets is an edited config with the stored secret values put back
// where the edit left them hidden, empty or out.
func keepSecrets(typ int, edited, stored string) string {
	keys := channeltype.SecretConfig(typ)
	if len(keys) == 0 || stored == "" {
		return edited
	}
	var old map[string]json.RawMessage
	if json.Unmarshal([]byte(stored), &old) != nil {
		return edited
	}
	m := map[string]json.RawMessage{}
	if edited != "" && json.Unmarshal([]byte(edited), &m) != nil {
		return edited
	}
	for _, k := range keys {
		var v string
		raw, ok := m[k]
		if ok && json.Unmarshal(raw, &v) == nil && v != "" && v != HiddenConfig {
			continue
		}
		if ok && raw != nil && v == "" && string(raw) != `""` {
			continue // a non-string value the operator set
		}
		if prev, had := old[k]; had {
			m[k] = prev
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return edited
	}
	return string(out)
}
