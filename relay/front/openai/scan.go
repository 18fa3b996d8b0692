package openai

import (
	"switchyard/common/errs"
	"switchyard/relay/adaptor"
	"switchyard/relay/adaptor/scan"
)

// ScanChat reads a chat body the way pass-through needs it, without
// decoding it whole: model, stream, stream_options.include_usage and the
// completion budget are read and checked as ParseJSON checks them, the
// messages array is checked for its shape, and the prompt is measured
// (PromptBytes, PromptExtra) instead of copied out. The rest (Chat,
// Fields, PromptText) is read by req.Complete when a conversion or a
// local count needs it.
//
// The measure is an upper bound on what ParseJSON counts: strings are
// measured as written (an escape is never shorter than what it stands
// for), and a key written twice is counted twice. The reservation is a
// hold and settlement uses the upstream's usage, so a bound is enough;
// the prompt is tokenized only when an upstream reports no usage.
//
// Fields the relay does not read (temperature, tools' shapes, ...) are
// the upstream's to judge on pass-through: it speaks the same format and
// answers a bad one with its own 400, which reaches the client as a
// request error and is not held against the channel. A body ParseJSON
// accepts, ScanChat accepts with the same model, stream and budget
// (FuzzScanChat).
func ScanChat(raw []byte, req *adaptor.Request) error {
	o, ok := scan.ObjectOf(raw)
	if !ok || !scan.Valid(raw) {
		return errs.BadRequest("the body is not a JSON object")
	}
	req.Raw = raw
	var model, stream, so, maxTokens, maxCompletion, messages, tools []byte
	for k, v, ok := o.Next(); ok; k, v, ok = o.Next() {
		switch {
		case scan.Is(k, "model"):
			model = v
		case scan.Is(k, "stream"):
			stream = v
		case scan.Is(k, "stream_options"):
			so = v
		case scan.Is(k, "max_tokens"):
			maxTokens = v
		case scan.Is(k, "max_completion_tokens"):
			maxCompletion = v
		case scan.Is(k, "messages"):
			messages = v
		case scan.Is(k, "tools"):
			tools = v
		}
	}
	if model == nil || scan.IsNull(model) {
		return badParam("model", "model is required and must be a string")
	}
	m, ok := scan.String(model)
	if !ok || m == "" {
		return badParam("model", "model is required and must be a string")
	}
	req.Model = m
	if stream != nil && !scan.IsNull(stream) {
		if req.Stream, ok = scan.Bool(stream); !ok {
			return badParam("stream", "stream must be true or false")
		}
	}
	if so != nil && req.Stream {
		inc, ok := includeUsageOf(so)
		if !ok {
			return badParam("stream_options", "stream_options must be an object")
		}
		req.IncludeUsage = inc
	}
	if err := readBudget(req, "max_tokens", maxTokens); err != nil {
		return err
	}
	if err := readBudget(req, "max_completion_tokens", maxCompletion); err != nil {
		return err
	}
	bytes, extra, ok := measureMessages(messages)
	if !ok {
		return badParam("messages", "messages must be a non-empty array of messages")
	}
	if tools != nil {
		bytes += len(tools)
	}
	req.PromptBytes, req.PromptExtra = bytes, extra
	req.Deferred = completeChat
	return nil
}

// readBudget raises req.MaxTokens to field name's value v (nil: absent).
func readBudget(req *adaptor.Request, name string, v []byte) error {
	if v == nil || scan.IsNull(v) {
		return nil
	}
	n, ok := scan.Int(v)
	if !ok || n < 0 {
		return badParam(name, "%s must be a whole number", name)
	}
	req.MaxTokens = max(req.MaxTokens, n)
	return nil
}

// completeChat reads a scanned chat body whole.
func completeChat(req *adaptor.Request) error { return ParseJSON(req.Raw, req) }

// includeUsageOf reads stream_options as ParseJSON does: null or an
// object whose include_usage (any case, last one wins) is a bool or null.
func includeUsageOf(v []byte) (inc, ok bool) {
	if scan.IsNull(v) {
		return false, true
	}
	o, ok := scan.ObjectOf(v)
	if !ok {
		return false, false
	}
	for k, v, more := o.Next(); more; k, v, more = o.Next() {
		if !scan.Fold(k, "include_usage") || scan.IsNull(v) {
			continue
		}
		b, ok := scan.Bool(v)
		if !ok {
			return false, false
		}
		inc = b
	}
	return inc, true
}

// measureMessages bounds the text parseChat counts from messages and
// counts its framing tokens; ok is false when messages is not a
// non-empty array of messages.
func measureMessages(v []byte) (bytes, extra int, ok bool) {
	a, ok := scan.ArrayOf(v)
	if !ok {
		return 0, 0, false
	}
	extra = tokensPerReply
	n := 0
	for m, more := a.Next(); more; m, more = a.Next() {
		n++
		extra += tokensPerMessage
		bytes += 2 // the newlines after the role and after the message
		if scan.IsNull(m) {
			continue
		}
		o, ok := scan.ObjectOf(m)
		if !ok {
			return 0, 0, false
		}
		named := false
		for k, v, more := o.Next(); more; k, v, more = o.Next() {
			switch {
			case scan.Fold(k, "role"):
				if !scan.IsString(v) && !scan.IsNull(v) {
					return 0, 0, false
				}
				bytes += scan.Len(v)
			case scan.Fold(k, "name"):
				if l := scan.Len(v); l > 0 {
					bytes += l + 1
					named = true
				}
			case scan.Fold(k, "content"):
				b, images, ok := measureContent(v)
				if !ok {
					return 0, 0, false
				}
				bytes += b
				extra += images * tokensPerImage
			case scan.Fold(k, "tool_calls"):
				bytes += measureToolCalls(v)
			}
		}
		if named {
			extra += tokensPerName
		}
	}
	return bytes, extra, n > 0
}

// measureContent bounds a message content's text and counts its images,
// as contentParts reads it.
func measureContent(v []byte) (bytes, images int, ok bool) {
	switch {
	case scan.IsNull(v):
		return 0, 0, true
	case scan.IsString(v):
		return scan.Len(v), 0, true
	}
	a, ok := scan.ArrayOf(v)
	if !ok {
		return 0, 0, false
	}
	for p, more := a.Next(); more; p, more = a.Next() {
		o, ok := scan.ObjectOf(p)
		if !ok {
			continue
		}
		image := false
		for k, v, more := o.Next(); more; k, v, more = o.Next() {
			switch {
			case scan.Fold(k, "type"):
				if scan.StringIs(v, "image_url") || scan.StringIs(v, "image") {
					image = true
				}
			case scan.Fold(k, "text"):
				bytes += scan.Len(v)
			}
		}
		if image {
			images++
		}
	}
	return bytes, images, true
}

// measureToolCalls bounds the names and arguments of an assistant turn's
// tool calls.
func measureToolCalls(v []byte) (bytes int) {
	a, ok := scan.ArrayOf(v)
	if !ok {
		return 0
	}
	for tc, more := a.Next(); more; tc, more = a.Next() {
		o, ok := scan.ObjectOf(tc)
		if !ok {
			continue
		}
		for k, fn, more := o.Next(); more; k, fn, more = o.Next() {
			if !scan.Fold(k, "function") {
				continue
			}
			fo, ok := scan.ObjectOf(fn)
			if !ok {
				continue
			}
			for k, v, more := fo.Next(); more; k, v, more = fo.Next() {
				if scan.Fold(k, "name") || scan.Fold(k, "arguments") {
					bytes += scan.Len(v)
				}
			}
		}
	}
	return bytes
}
