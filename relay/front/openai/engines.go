package openai

import (
	"encoding/json"
	"net/http"

	"switchyard/relay/adaptor"
	"switchyard/relay/adaptor/scan"
	"switchyard/relay/front"
)

// EnginesFront is the front of OpenAI's older embeddings path,
// POST /v1/engines/{model}/embeddings, which One API relays too: the path
// names the model, and a body that names none (the old clients send only
// "input") is given the path's. A body that names a model keeps it, as One
// API does. Everything else is the OpenAI front's.
type EnginesFront struct {
	Front
	// Model is the path's model; empty leaves the body as it is.
	Model string
}

// Parse implements adaptor.Front.
func (f EnginesFront) Parse(hr *http.Request, mode adaptor.Mode) (*adaptor.Request, error) {
	raw, err := front.ReadJSON(hr)
	if err != nil {
		return nil, err
	}
	raw = withModel(raw, f.Model)
	req := &adaptor.Request{Mode: mode, Format: adaptor.FormatOpenAI}
	return req, ParseJSON(raw, req)
}

// withModel is raw with "model" set to m when raw is an object whose model
// is absent, null or empty; anything else (not an object, a model already
// named) is left for ParseJSON to judge.
func withModel(raw []byte, m string) []byte {
	if m == "" {
		return raw
	}
	if _, ok := scan.ObjectOf(raw); !ok || !scan.Valid(raw) {
		return raw
	}
	if v, ok := adaptor.Field(raw, "model"); ok && !scan.IsNull(v) {
		if s, isString := scan.String(v); !isString || s != "" {
			return raw
		}
	}
	name, _ := json.Marshal(m)
	out, err := adaptor.SetField(raw, "model", name)
	if err != nil {
		return raw
	}
	return out
}
