package bedrock

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"switchyard/relay/adaptor"
	"switchyard/relay/sse"
)

// maxFrame bounds one event-stream message's payload, as sse.DefaultMaxLine
// bounds an SSE line.
const maxFrame = sse.DefaultMaxLine

// Frames reads AWS event-stream messages (application/vnd.amazon.eventstream)
// with the SDK's decoder, each as an sse.Event: Name is the :event-type of
// an event message, or "exception:<type>" for an exception message; Data
// its JSON payload.
type Frames struct {
	r   io.Reader
	dec *eventstream.Decoder
	buf []byte
}

// NewFrames reads frames from body.
func NewFrames(body io.Reader) *Frames {
	return &Frames{r: body, dec: eventstream.NewDecoder(), buf: make([]byte, 0, 16<<10)}
}

// Next returns the next frame; io.EOF after the last whole one.
func (f *Frames) Next() (sse.Event, error) {
	msg, err := f.dec.Decode(f.r, f.buf[:0])
	if err != nil {
		if err == io.EOF {
			return sse.Event{}, io.EOF
		}
		return sse.Event{}, fmt.Errorf("bedrock event stream: %w", err)
	}
	if len(msg.Payload) > maxFrame {
		return sse.Event{}, sse.ErrEventTooLarge
	}
	f.buf = msg.Payload[:0]
	name := header(msg, ":event-type")
	if header(msg, ":message-type") == "exception" {
		name = "exception:" + header(msg, ":exception-type")
	} else if header(msg, ":message-type") == "error" {
		name = "exception:" + header(msg, ":error-code")
	}
	return sse.Event{Name: name, Data: msg.Payload}, nil
}

func header(m eventstream.Message, name string) string {
	if v := m.Headers.Get(name); v != nil {
		return v.String()
	}
	return ""
}

// exception turns an in-stream exception into the neutral error.
func exception(typ string, payload []byte) *adaptor.UpstreamError {
	var b struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(payload, &b)
	status := exceptionStatus[typ]
	if status == 0 {
		status = http.StatusBadGateway
	}
	return classify(status, typ, b.Message)
}

// exceptionStatus is the HTTP status each stream exception stands for.
var exceptionStatus = map[string]int{
	"throttlingException":           http.StatusTooManyRequests,
	"validationException":           http.StatusBadRequest,
	"modelStreamErrorException":     http.StatusBadGateway,
	"internalServerException":       http.StatusInternalServerError,
	"serviceUnavailableException":   http.StatusServiceUnavailable,
	"modelTimeoutException":         http.StatusGatewayTimeout,
	"accessDeniedException":         http.StatusForbidden,
	"resourceNotFoundException":     http.StatusNotFound,
	"serviceQuotaExceededException": http.StatusTooManyRequests,
}

// converseDecoder decodes ConverseStream's events: messageStart,
// contentBlockStart (a tool call's id and name), contentBlockDelta (text,
// tool input, reasoning), contentBlockStop, messageStop (stopReason) and
// metadata (usage), which comes last.
type converseDecoder struct {
	usage *adaptor.Usage
	done  bool
	// tools maps a content block index to its tool call index.
	tools map[int]int
}

func (d *converseDecoder) Decode(ev sse.Event, out []adaptor.Event) ([]adaptor.Event, error) {
	if len(ev.Name) > 10 && ev.Name[:10] == "exception:" {
		return out, exception(ev.Name[10:], ev.Data)
	}
	var e struct {
		Role              string `json:"role"`
		ContentBlockIndex int    `json:"contentBlockIndex"`
		Start             *struct {
			ToolUse *struct {
				ToolUseID string `json:"toolUseId"`
				Name      string `json:"name"`
			} `json:"toolUse"`
		} `json:"start"`
		Delta *struct {
			Text    *string `json:"text"`
			ToolUse *struct {
				Input string `json:"input"`
			} `json:"toolUse"`
			ReasoningContent *struct {
				Text      string `json:"text"`
				Signature string `json:"signature"`
			} `json:"reasoningContent"`
		} `json:"delta"`
		StopReason string         `json:"stopReason"`
		Usage      *ConverseUsage `json:"usage"`
	}
	if err := json.Unmarshal(ev.Data, &e); err != nil {
		return out, fmt.Errorf("converse stream event %s: %w", ev.Name, err)
	}
	switch ev.Name {
	case "messageStart":
		out = append(out, adaptor.Event{Kind: adaptor.EventStart})
	case "contentBlockStart":
		if e.Start != nil && e.Start.ToolUse != nil {
			if d.tools == nil {
				d.tools = map[int]int{}
			}
			i := len(d.tools)
			d.tools[e.ContentBlockIndex] = i
			out = append(out, adaptor.Event{Kind: adaptor.EventToolCallStart, Index: i, ID: e.Start.ToolUse.ToolUseID, Name: e.Start.ToolUse.Name})
		}
	case "contentBlockDelta":
		if e.Delta == nil {
			break
		}
		switch {
		case e.Delta.Text != nil:
			out = append(out, adaptor.Event{Kind: adaptor.EventText, Text: *e.Delta.Text})
		case e.Delta.ToolUse != nil:
			out = append(out, adaptor.Event{Kind: adaptor.EventToolArgs, Index: d.tools[e.ContentBlockIndex], Args: e.Delta.ToolUse.Input})
		case e.Delta.ReasoningContent != nil:
			out = append(out, adaptor.Event{Kind: adaptor.EventThinking, Text: e.Delta.ReasoningContent.Text, Signature: e.Delta.ReasoningContent.Signature})
		}
	case "messageStop":
		out = append(out, adaptor.Event{Kind: adaptor.EventFinish, Reason: stopReason(e.StopReason)})
	case "metadata":
		d.usage = e.Usage.neutral()
		d.done = true
		if d.usage != nil {
			u := *d.usage
			out = append(out, adaptor.Event{Kind: adaptor.EventUsage, Usage: &u})
		}
	}
	return out, nil
}

func (d *converseDecoder) Usage() *adaptor.Usage { return d.usage }
func (d *converseDecoder) Done() bool            { return d.done }
