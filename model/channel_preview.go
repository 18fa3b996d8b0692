package model

import (
	"strings"

	"switchyard/common/errs"
)

// ChannelPreview is the channel a create form describes, as the relay
// would call it, for asking its provider before it is saved (the
// console's "fetch models" on a new channel): type, base URL, config and
// the first key line are checked as a create checks them; nothing is
// stored and no health is kept.
func ChannelPreview(in Channel) (*RelayChannel, error) {
	// Normalize wants a model list, which is what the preview is asked
	// for: a stand-in satisfies it and goes nowhere.
	in.Models, in.TestModel = "preview", ""
	if err := in.Normalize(); err != nil {
		return nil, err
	}
	var key string
	for _, k := range strings.Split(in.Key, "\n") {
		if k = strings.TrimSpace(k); k != "" {
			key = k
			break
		}
	}
	if key == "" {
		return nil, errs.BadRequest("key is required").WithParam("key")
	}
	// Normalize checked both.
	proxy, _ := ConfigProxy(in.Config)
	headers, _ := ConfigHeaders(in.Config)
	return &RelayChannel{
		Type: in.Type, Name: in.Name, Key: key, Keys: &KeySet{Keys: []string{key}}, BaseURL: in.EffectiveBaseURL(),
		Other: in.Other, Headers: headers, Settings: ConfigStrings(in.Config), Proxy: proxy,
	}, nil
}
