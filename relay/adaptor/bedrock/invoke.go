package bedrock

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"switchyard/relay/adaptor"
	"switchyard/relay/adaptor/anthropic"
	"switchyard/relay/sse"
)

// AnthropicVersion is the anthropic_version Bedrock wants in a Claude body.
const AnthropicVersion = "bedrock-2023-05-31"

// IsClaude reports a Bedrock model id of Anthropic's (also through a
// cross-region inference profile such as "us.anthropic.…"): those go
// through InvokeModel with Anthropic's own body, the rest through Converse.
func IsClaude(id string) bool { return strings.Contains(id, "anthropic.") }

// invokeBody is Anthropic's Messages body as InvokeModel takes it: no
// model (it is in the path), no stream (the path says it), and Bedrock's
// anthropic_version.
func invokeBody(req *adaptor.Request) ([]byte, error) {
	raw, err := json.Marshal(anthropic.RequestOf(req))
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	delete(fields, "model")
	delete(fields, "stream")
	fields["anthropic_version"] = json.RawMessage(`"` + AnthropicVersion + `"`)
	return json.Marshal(fields)
}

func invokeResponse(body []byte) (*adaptor.Response, error) {
	var m anthropic.MessageResponse
	if err := json.Unmarshal(body, &m); err != nil || m.Type != "message" {
		return nil, fmt.Errorf("bedrock InvokeModel answer is not an Anthropic message")
	}
	return anthropic.ResponseOf(&m), nil
}

// invokeDecoder reads InvokeModelWithResponseStream: each "chunk" event
// carries one Anthropic stream event, base64 in its bytes field, which
// Anthropic's own decoder reads.
type invokeDecoder struct {
	inner adaptor.StreamDecoder
	buf   []byte
}

func (d *invokeDecoder) Decode(ev sse.Event, out []adaptor.Event) ([]adaptor.Event, error) {
	if strings.HasPrefix(ev.Name, "exception:") {
		return out, exception(ev.Name[len("exception:"):], ev.Data)
	}
	if ev.Name != "chunk" {
		return out, nil
	}
	var c struct {
		Bytes string `json:"bytes"`
	}
	if err := json.Unmarshal(ev.Data, &c); err != nil {
		return out, fmt.Errorf("bedrock chunk: %w", err)
	}
	n := base64.StdEncoding.DecodedLen(len(c.Bytes))
	if cap(d.buf) < n {
		d.buf = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(d.buf[:n], []byte(c.Bytes))
	if err != nil {
		return out, fmt.Errorf("bedrock chunk bytes: %w", err)
	}
	data := d.buf[:n]
	var t struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &t); err != nil {
		return out, fmt.Errorf("bedrock chunk event: %w", err)
	}
	return d.inner.Decode(sse.Event{Name: t.Type, Data: data}, out)
}

func (d *invokeDecoder) Usage() *adaptor.Usage { return d.inner.Usage() }
func (d *invokeDecoder) Done() bool            { return d.inner.Done() }
