package anthropic

import (
	"switchyard/relay/adaptor"
	"switchyard/relay/adaptor/scan"
)

// ScanRequest reads a Messages body the way pass-through needs it,
// without decoding it whole: model, max_tokens and stream are read and
// checked as ParseRequest checks them, each message's role and block
// types are checked, and the prompt is measured (PromptBytes,
// PromptExtra) instead of copied out. The rest (Chat, PromptText) is
// read by req.Complete when a conversion or a local count needs it.
//
// The measure bounds from above what ParseRequest counts (strings as
// written, a key written twice counted twice): the reservation is a hold,
// settlement uses the upstream's usage. Fields the relay does not read
// (temperature, tool_choice, cache_control, thinking, ...) go to the
// Anthropic channel byte for byte, and it judges them. A body
// ParseRequest accepts, ScanRequest accepts with the same model, budget
// and stream (FuzzScanRequest).
func ScanRequest(raw []byte) (*adaptor.Request, error) {
	o, ok := scan.ObjectOf(raw)
	if !ok || !scan.Valid(raw) {
		return nil, invalid("the body is not a valid Messages request: not a JSON object")
	}
	var model, maxTokens, stream, system, messages, tools []byte
	for k, v, ok := o.Next(); ok; k, v, ok = o.Next() {
		// Struct fields match keys in any case, as ParseRequest's do.
		switch {
		case scan.Fold(k, "model"):
			model = v
		case scan.Fold(k, "max_tokens"):
			maxTokens = v
		case scan.Fold(k, "stream"):
			stream = v
		case scan.Fold(k, "system"):
			system = v
		case scan.Fold(k, "messages"):
			messages = v
		case scan.Fold(k, "tools"):
			tools = v
		}
	}
	req := &adaptor.Request{Mode: adaptor.ModeChat, Format: adaptor.FormatAnthropic, Raw: raw}
	if model != nil && !scan.IsNull(model) {
		if req.Model, ok = scan.String(model); !ok {
			return nil, invalid("the body is not a valid Messages request: model must be a string").WithParam("model")
		}
	}
	if req.Model == "" {
		return nil, invalid("model: field required").WithParam("model")
	}
	if maxTokens != nil && !scan.IsNull(maxTokens) {
		if req.MaxTokens, ok = scan.Int(maxTokens); !ok {
			return nil, invalid("the body is not a valid Messages request: max_tokens must be an integer").WithParam("max_tokens")
		}
	}
	if req.MaxTokens <= 0 {
		return nil, invalid("max_tokens: field required and must be at least 1").WithParam("max_tokens")
	}
	if stream != nil && !scan.IsNull(stream) {
		if req.Stream, ok = scan.Bool(stream); !ok {
			return nil, invalid("the body is not a valid Messages request: stream must be a boolean").WithParam("stream")
		}
	}
	bytes, extra := 0, tokensPerReply
	if system != nil {
		bytes += measureSystem(system)
	}
	n := 0
	if messages != nil && !scan.IsNull(messages) {
		a, ok := scan.ArrayOf(messages)
		if !ok {
			return nil, invalid("the body is not a valid Messages request: messages must be an array").WithParam("messages")
		}
		for m, more := a.Next(); more; m, more = a.Next() {
			b, images, err := measureMessage(m, n)
			if err != nil {
				return nil, err
			}
			bytes += b
			extra += tokensPerMessage + images*tokensPerImage
			n++
		}
	}
	if n == 0 {
		return nil, invalid("messages: at least one message is required").WithParam("messages")
	}
	if tools != nil {
		bytes += measureTools(tools)
	}
	req.PromptBytes, req.PromptExtra = bytes, extra
	req.Deferred = completeRequest
	return req, nil
}

// completeRequest reads a scanned Messages body whole.
func completeRequest(req *adaptor.Request) error {
	whole, err := ParseRequest(req.Raw)
	if err != nil {
		return err
	}
	req.Chat, req.PromptText, req.PromptExtra = whole.Chat, whole.PromptText, whole.PromptExtra
	return nil
}

func measureSystem(v []byte) int {
	if scan.IsString(v) {
		return scan.Len(v) + 1
	}
	a, ok := scan.ArrayOf(v)
	if !ok {
		return 0
	}
	bytes := 0
	for b, more := a.Next(); more; b, more = a.Next() {
		bytes += measureText(b) + 1
	}
	return bytes
}

// measureText bounds a block's text field.
func measureText(b []byte) int {
	o, ok := scan.ObjectOf(b)
	if !ok {
		return 0
	}
	bytes := 0
	for k, v, more := o.Next(); more; k, v, more = o.Next() {
		if scan.Fold(k, "text") {
			bytes += scan.Len(v)
		}
	}
	return bytes
}

// measureMessage checks message i's role and block types and bounds its
// text, as messagesOf counts it.
func measureMessage(m []byte, i int) (bytes, images int, err error) {
	if scan.IsNull(m) {
		return 0, 0, invalid("messages.%d.role: must be user or assistant", i).WithParam("messages")
	}
	o, ok := scan.ObjectOf(m)
	if !ok {
		return 0, 0, invalid("the body is not a valid Messages request: messages.%d must be an object", i).WithParam("messages")
	}
	var role, content []byte
	for k, v, more := o.Next(); more; k, v, more = o.Next() {
		switch {
		case scan.Fold(k, "role"):
			role = v
		case scan.Fold(k, "content"):
			content = v
			// Every content written counts: a bound, not a choice.
			b, n := measureContent(v)
			bytes += b
			images += n
		}
	}
	if !scan.StringIs(role, adaptor.RoleUser) && !scan.StringIs(role, adaptor.RoleAssistant) {
		return 0, 0, invalid("messages.%d.role: must be user or assistant", i).WithParam("messages")
	}
	if a, ok := scan.ArrayOf(content); ok {
		for b, more := a.Next(); more; b, more = a.Next() {
			if t := lastType(b); !knownBlock(t) {
				s, _ := scan.String(t)
				return 0, 0, invalid("messages.%d: unsupported content block type %q", i, s).WithParam("messages")
			}
		}
	}
	return bytes + 1, images, nil
}

// knownBlock reports whether block type t (a JSON value) is one Anthropic
// documents, without copying it out.
func knownBlock(t []byte) bool {
	if inner, ok := scan.Plain(t); ok {
		return blockTypes[string(inner)]
	}
	s, _ := scan.String(t)
	return blockTypes[s]
}

// lastType is a block's type value (the last one written), nil if none.
func lastType(b []byte) []byte {
	o, ok := scan.ObjectOf(b)
	if !ok {
		return nil
	}
	var t []byte
	for k, v, more := o.Next(); more; k, v, more = o.Next() {
		if scan.Fold(k, "type") {
			t = v
		}
	}
	return t
}

// measureContent bounds a content's text (a string or blocks) and counts
// its images, tool results' included.
func measureContent(v []byte) (bytes, images int) {
	if scan.IsString(v) {
		return scan.Len(v), 0
	}
	a, ok := scan.ArrayOf(v)
	if !ok {
		return 0, 0
	}
	for b, more := a.Next(); more; b, more = a.Next() {
		o, ok := scan.ObjectOf(b)
		if !ok {
			continue
		}
		image := false
		for k, v, more := o.Next(); more; k, v, more = o.Next() {
			switch {
			case scan.Fold(k, "type"):
				if scan.StringIs(v, "image") {
					image = true
				}
				if scan.StringIs(v, "tool_use") {
					bytes += 2 // "{}" stands for missing input
				}
			case scan.Fold(k, "text"), scan.Fold(k, "name"):
				bytes += scan.Len(v)
			case scan.Fold(k, "input"):
				bytes += len(v)
			case scan.Fold(k, "content"):
				// A tool_result's content: a string or text and image blocks.
				b, n := measureContent(v)
				bytes += b
				images += n
			}
		}
		if image {
			images++
		}
	}
	return bytes, images
}

// measureTools bounds the tools' names, descriptions and schemas.
func measureTools(v []byte) int {
	a, ok := scan.ArrayOf(v)
	if !ok {
		return 0
	}
	bytes := 0
	for t, more := a.Next(); more; t, more = a.Next() {
		o, ok := scan.ObjectOf(t)
		if !ok {
			continue
		}
		for k, v, more := o.Next(); more; k, v, more = o.Next() {
			switch {
			case scan.Fold(k, "name"), scan.Fold(k, "description"):
				bytes += scan.Len(v)
			case scan.Fold(k, "input_schema"):
				bytes += len(v)
			}
		}
	}
	return bytes
}
